using System.Globalization;

namespace GgufOptimize.Storage;

/// <summary>
/// What identifies a comparison's inputs: saved chunk results (<see cref="KldChunkStore"/>) and a finished output are
/// reused only when all three are equal.
/// </summary>
public sealed record ComparisonInputs(string Baseline, string Target, int SkipFirst)
{
    /// <summary>As stored in the output's root attributes and the parts manifest.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ToAttributes() =>
    [
        new("id_baseline", Baseline),
        new("id_target", Target),
        new("id_skip_first", SkipFirst.ToString(CultureInfo.InvariantCulture)),
    ];
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
public sealed record EarlyStoppingRecord(
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

/// <summary>Where <c>iterate</c> places a comparison (type, iteration, calibration) and the target's size, for <c>report</c>.</summary>
public sealed record ComparisonLabels
{
    public const string TypeKey = "iterate_type";
    public const string IterationKey = "iterate_iteration";
    public const string CalibrationKey = "iterate_calibration";
    public const string CalibrationSizeKey = "iterate_calibration_size";
    public const string CalibrationTokensKey = "iterate_calibration_tokens";
    public const string TargetBytesKey = "target_bytes";
    public const string TargetParametersKey = "target_parameters";
    public const string TargetBitsPerWeightKey = "target_bits_per_weight";

    public required string Type { get; init; }
    public required string Calibration { get; init; }
    public int Iteration { get; init; }
    public double CalibrationSize { get; init; }
    public double CalibrationTokens { get; init; }
    public double TargetBytes { get; init; }
    public double TargetParameters { get; init; }
    public double TargetBitsPerWeight { get; init; }

    public IEnumerable<KeyValuePair<string, string>> Text() => [new(TypeKey, Type), new(CalibrationKey, Calibration)];

    public IEnumerable<KeyValuePair<string, double>> Numbers() =>
    [
        new(IterationKey, Iteration), new(CalibrationSizeKey, CalibrationSize), new(CalibrationTokensKey, CalibrationTokens),
        new(TargetBytesKey, TargetBytes), new(TargetParametersKey, TargetParameters), new(TargetBitsPerWeightKey, TargetBitsPerWeight),
    ];
}

/// <summary>
/// The root attributes of a comparison file written by <c>kld</c>: the inputs' identities, what was scored, and how
/// the run ended. <see cref="Text"/> and <see cref="Numbers"/> give them under their stored names, in file order.
/// </summary>
public sealed record ComparisonProvenance
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

    public int SkipFirst => Inputs.SkipFirst;

    public string ScoredPositions => SkipFirst > 0
        ? $"positions >= {SkipFirst} of each chunk that have a next token"
        : "every position of each chunk that has a next token";

    public IEnumerable<KeyValuePair<string, string>> Text()
    {
        foreach (var pair in Inputs.ToAttributes()) yield return pair;
        yield return new("baseline_file", BaselineFile);
        yield return new("target", Target);
        yield return new("scored_positions", ScoredPositions);
        yield return new("missing_baseline_chunks", string.Join(',', MissingBaselineChunks));
        foreach (var pair in EarlyStopping.Text()) yield return pair;
        if (Labels is not null)
            foreach (var pair in Labels.Text()) yield return pair;
    }

    public IEnumerable<KeyValuePair<string, double>> Numbers()
    {
        yield return new("n_vocab", VocabSize);
        yield return new("n_ctx", ContextSize);
        yield return new("skip_first", SkipFirst);
        yield return new("from_chunk", FromChunk);
        yield return new("to_chunk", ToChunk);
        yield return new("chunks_compared", ChunksCompared);
        yield return new("baseline_incomplete", MissingBaselineChunks.Count > 0 ? 1 : 0);
        foreach (var pair in EarlyStopping.Numbers()) yield return pair;
        if (Labels is not null)
            foreach (var pair in Labels.Numbers()) yield return pair;
    }
}
