using System.Globalization;

namespace GgufOptimize.Storage;

/// <summary>
/// What identifies a comparison's inputs: saved chunk results (<see cref="KldChunkStore"/>) and a finished output are
/// reused only when all three are equal.
/// </summary>
internal sealed record ComparisonInputs(string Baseline, string Target, int SkipFirst)
{
    /// <summary>Engine settings that can change the target's logits (batch, ubatch, flash attention, cache types, GPU layers, native library), when a model is run.</summary>
    public string? TargetEngine { get; init; }
    /// <summary>The same for a baseline model run here (--baseline-model).</summary>
    public string? BaselineEngine { get; init; }

    /// <summary>As stored in the output's root attributes and the parts manifest.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ToAttributes()
    {
        var attributes = new List<KeyValuePair<string, string>>
        {
            new("id_baseline", Baseline),
            new("id_target", Target),
            new("id_skip_first", SkipFirst.ToString(CultureInfo.InvariantCulture)),
        };
        if (TargetEngine is not null) attributes.Add(new("id_target_engine", TargetEngine));
        if (BaselineEngine is not null) attributes.Add(new("id_baseline_engine", BaselineEngine));
        return attributes;
    }
}

/// <summary>How a comparison's early stopping went; recorded in every output, whether it was enabled or not.</summary>
/// <param name="Enabled">--early-stopping was given.</param>
/// <param name="Stopped">The rule stopped the run before the last chunk of the range.</param>
/// <param name="Reason">One sentence: why the run ended where it did.</param>
/// <param name="ChunksUsed">Chunks compared.</param>
/// <param name="ChunksTotal">Chunks of the range the baseline holds (what a full run compares).</param>
/// <param name="RandomOrder">Chunks were visited in a seeded random order, not text order.</param>
/// <param name="Seed">Seed of that order and of the bootstrap.</param>
/// <param name="Confidence">Stated confidence that the interval covers the Score of all <see cref="ChunksTotal"/> chunks (NaN when disabled).</param>
/// <param name="LookConfidence">Confidence of each look's interval (the stated one spent over the planned looks).</param>
/// <param name="Margin">Relative margin of error that stops the run.</param>
/// <param name="PlannedLooks">Chunk counts at which the rule looks.</param>
/// <param name="Looks">Looks made.</param>
/// <param name="Lower">Lower end of the interval of the whole range's Score (NaN when disabled).</param>
/// <param name="Upper">Upper end.</param>
internal sealed record EarlyStoppingRecord(
    bool Enabled, bool Stopped, string Reason, int ChunksUsed, int ChunksTotal, bool RandomOrder, ulong Seed,
    double Confidence, double LookConfidence, double Margin, IReadOnlyList<int> PlannedLooks, int Looks, double Lower, double Upper)
{
    public static EarlyStoppingRecord Disabled(int chunksUsed, int chunksTotal, bool randomOrder, ulong seed) =>
        new(false, false, "early stopping was not enabled", chunksUsed, chunksTotal, randomOrder, seed, double.NaN, double.NaN, double.NaN, [], 0, double.NaN, double.NaN);

    public IEnumerable<KeyValuePair<string, string>> Text() =>
    [
        new("early_stopping_reason", Reason),
        new("early_stopping_order", RandomOrder ? "random" : "text"),
        new("early_stopping_seed", Seed.ToString(CultureInfo.InvariantCulture)),
        new("early_stopping_planned_looks", string.Join(',', PlannedLooks)),
    ];

    public IEnumerable<KeyValuePair<string, double>> Numbers()
    {
        yield return new("early_stopping_enabled", Enabled ? 1 : 0);
        yield return new("early_stopping_stopped", Stopped ? 1 : 0);
        yield return new("early_stopping_chunks", ChunksUsed);
        yield return new("early_stopping_chunks_total", ChunksTotal);
        yield return new("early_stopping_looks", Looks);
        if (!Enabled) yield break;
        yield return new("early_stopping_confidence", Confidence);
        yield return new("early_stopping_look_confidence", LookConfidence);
        yield return new("early_stopping_margin", Margin);
        yield return new("score_ci_lower", Lower);
        yield return new("score_ci_upper", Upper);
    }
}

/// <summary>Where <c>iterate</c> places a comparison (type, iteration, calibration), for <c>report</c>.</summary>
internal sealed record ComparisonLabels
{
    public const string TypeKey = "iterate_type";
    public const string IterationKey = "iterate_iteration";
    public const string CalibrationKey = "iterate_calibration";
    public const string CalibrationSizeKey = "iterate_calibration_size";
    public const string CalibrationTokensKey = "iterate_calibration_tokens";

    public required string Type { get; init; }
    public required string Calibration { get; init; }
    public int Iteration { get; init; }
    public double CalibrationSize { get; init; }
    public double CalibrationTokens { get; init; }

    public IEnumerable<KeyValuePair<string, string>> Text() => [new(TypeKey, Type), new(CalibrationKey, Calibration)];

    public IEnumerable<KeyValuePair<string, double>> Numbers() =>
        [new(IterationKey, Iteration), new(CalibrationSizeKey, CalibrationSize), new(CalibrationTokensKey, CalibrationTokens)];
}

/// <summary>
/// What the target of a comparison is, so that <c>report</c> can place and size it from the file alone: for a model,
/// from its GGUF header (type, the imatrix it was quantized with or none, size, bits per weight); for stored logits,
/// the model they were computed with when their header says.
/// </summary>
internal sealed record TargetFacts
{
    public const string PathKey = "target_path";
    public const string TypeKey = "target_type";
    public const string ImatrixKey = "target_imatrix";
    public const string ImatrixDatasetKey = "target_imatrix_dataset";
    public const string ImatrixChunksKey = "target_imatrix_chunks";
    public const string ModelKey = "target_model";
    public const string BytesKey = "target_bytes";
    public const string ParametersKey = "target_parameters";
    public const string BitsPerWeightKey = "target_bits_per_weight";
    /// <summary>The value of <see cref="ImatrixKey"/> for a model quantized without an imatrix.</summary>
    public const string NoImatrix = "none";

    /// <summary>Full path of the target model or logits when compared.</summary>
    public required string Path { get; init; }
    /// <summary>Quantization type from <c>general.file_type</c>.</summary>
    public string? Type { get; init; }
    /// <summary>File name of the imatrix, <see cref="NoImatrix"/>, or null when not known (stored logits).</summary>
    public string? Imatrix { get; init; }
    public string? ImatrixDataset { get; init; }
    public long? ImatrixChunks { get; init; }
    /// <summary>For stored logits: the model file they came from.</summary>
    public string? Model { get; init; }
    public long? Bytes { get; init; }
    public long? Parameters { get; init; }
    public double? BitsPerWeight { get; init; }

    public IEnumerable<KeyValuePair<string, string>> Text()
    {
        yield return new(PathKey, Path);
        if (Type is not null) yield return new(TypeKey, Type);
        if (Imatrix is not null) yield return new(ImatrixKey, Imatrix);
        if (ImatrixDataset is not null) yield return new(ImatrixDatasetKey, ImatrixDataset);
        if (Model is not null) yield return new(ModelKey, Model);
    }

    public IEnumerable<KeyValuePair<string, double>> Numbers()
    {
        if (ImatrixChunks is { } c) yield return new(ImatrixChunksKey, c);
        if (Bytes is { } b) yield return new(BytesKey, b);
        if (Parameters is { } p) yield return new(ParametersKey, p);
        if (BitsPerWeight is { } bpw && double.IsFinite(bpw)) yield return new(BitsPerWeightKey, bpw);
    }
}

/// <summary>The baseline's model and evaluation text, recorded when the baseline has a header (ours, or a model run here).</summary>
internal sealed record BaselineFacts(string Model, string ModelSha256, string Dataset, string DatasetSha256)
{
    public const string ModelKey = "baseline_model";
    public const string ModelSha256Key = "baseline_model_sha256";
    public const string DatasetKey = "dataset";
    public const string DatasetSha256Key = "dataset_sha256";

    public static BaselineFacts? Of(BaselineHeader? header) =>
        header is null ? null : new(header.Model.FileName, header.Model.Sha256, header.DatasetFile, header.DatasetSha256);

    public IEnumerable<KeyValuePair<string, string>> Text() =>
        [new(ModelKey, Model), new(ModelSha256Key, ModelSha256), new(DatasetKey, Dataset), new(DatasetSha256Key, DatasetSha256)];
}

/// <summary>
/// The root attributes of a comparison file written by <c>kld</c>: the inputs' identities, what was scored, and how
/// the run ended. <see cref="Text"/> and <see cref="Numbers"/> give them under their stored names, in file order.
/// </summary>
internal sealed record ComparisonProvenance
{
    public required ComparisonInputs Inputs { get; init; }
    public required string BaselineFile { get; init; }
    public required string Target { get; init; }
    public required IReadOnlyList<int> MissingBaselineChunks { get; init; }
    public required int VocabSize { get; init; }
    public required int ContextSize { get; init; }
    public required int FromChunk { get; init; }
    public required int ToChunk { get; init; }
    public required int ChunksCompared { get; init; }
    public required EarlyStoppingRecord EarlyStopping { get; init; }
    /// <summary>Set by <c>iterate</c>.</summary>
    public ComparisonLabels? Labels { get; init; }
    /// <summary>Positions before this are not stored in the baseline (a llama.cpp .kld file keeps n_ctx/2 … n_ctx−2).</summary>
    public int FirstStoredPosition { get; init; }
    /// <summary>Scored next tokens whose baseline log-probability is a stored floor (llama.cpp .kld baselines).</summary>
    public long FlooredNextTokens { get; init; }

    /// <summary>Statistics that use the baseline's log P(next), wrong for a token whose stored log-probability is a floor.</summary>
    public const string FloorAffected = "PPL_base, PPL_ratio, Mean_ln_PPL_ratio, Mean_ln_PPL_ratio_SE, Cor_ln_PPL, RMS_dp, RMS_dp_SE";

    public TargetFacts? TargetFacts { get; init; }
    public BaselineFacts? BaselineFacts { get; init; }

    public int SkipFirst => Inputs.SkipFirst;

    public int FirstScoredPosition => Math.Max(SkipFirst, FirstStoredPosition);

    /// <summary>What was scored, in words, for the summary line and the file (the same text everywhere).</summary>
    public string ScoredPositions =>
        FirstStoredPosition > 0 && FirstStoredPosition >= SkipFirst
            ? $"positions {FirstStoredPosition}…{ContextSize - 2} of each chunk only (n_ctx/2 … n_ctx−2: all a llama.cpp .kld baseline stores)"
            : SkipFirst > 0 ? $"positions ≥ {SkipFirst} of each chunk that have a next token"
            : "every position of each chunk that has a next token";

    public IEnumerable<KeyValuePair<string, string>> Text()
    {
        foreach (var pair in Inputs.ToAttributes()) yield return pair;
        yield return new("baseline_file", BaselineFile);
        yield return new("target", Target);
        yield return new("scored_positions", ScoredPositions);
        yield return new("missing_baseline_chunks", string.Join(',', MissingBaselineChunks));
        yield return new("floor_affected_statistics", FlooredNextTokens > 0 ? FloorAffected : "");
        foreach (var pair in EarlyStopping.Text()) yield return pair;
        if (Labels is not null)
            foreach (var pair in Labels.Text()) yield return pair;
        if (TargetFacts is not null)
            foreach (var pair in TargetFacts.Text()) yield return pair;
        if (BaselineFacts is not null)
            foreach (var pair in BaselineFacts.Text()) yield return pair;
    }

    public IEnumerable<KeyValuePair<string, double>> Numbers()
    {
        yield return new("n_vocab", VocabSize);
        yield return new("n_ctx", ContextSize);
        yield return new("skip_first", SkipFirst);
        yield return new("first_scored_position", FirstScoredPosition);
        yield return new("from_chunk", FromChunk);
        yield return new("to_chunk", ToChunk);
        yield return new("chunks_compared", ChunksCompared);
        yield return new("baseline_incomplete", MissingBaselineChunks.Count > 0 ? 1 : 0);
        yield return new("floored_next_tokens", FlooredNextTokens);
        foreach (var pair in EarlyStopping.Numbers()) yield return pair;
        if (Labels is not null)
            foreach (var pair in Labels.Numbers()) yield return pair;
        if (TargetFacts is not null)
            foreach (var pair in TargetFacts.Numbers()) yield return pair;
    }
}
