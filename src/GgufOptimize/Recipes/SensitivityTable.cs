namespace GgufOptimize.Recipes;

/// <summary>Mean KL-divergence of one chunk of a measurement (its tokens are the same in every measurement).</summary>
internal sealed record ChunkMean(int Chunk, int Tokens, double MeanKld);

/// <summary>One quantized mix measured against the baseline on the run's chunks, as stored in the work folder.</summary>
internal sealed record MixMeasurement
{
    public required string Id { get; init; }
    public required double MeanKld { get; init; }
    public required double Score { get; init; }
    public required long Tokens { get; init; }
    public required IReadOnlyList<ChunkMean> Chunks { get; init; }
    /// <summary>Tensor data of the whole quantized model.</summary>
    public required long TensorBytes { get; init; }
    /// <summary>Every tensor's type and size in the quantized model, as llama.cpp planned it (fallbacks included).</summary>
    public required IReadOnlyDictionary<string, string> TensorTypes { get; init; }
    public required IReadOnlyDictionary<string, long> TensorSizes { get; init; }
    public double QuantizeSeconds { get; init; }
    public double KldSeconds { get; init; }
    /// <summary>Early stopping ended the comparison before the last chunk of the sample (<see cref="Chunks"/> holds the ones compared).</summary>
    public bool StoppedEarly { get; init; }
}

/// <summary>A tensor group as the table records it.</summary>
internal sealed record GroupInfo(string Name, int? Layer, string Kind, string Pattern, IReadOnlyList<string> Tensors, long Elements, long ReferenceBytes);

/// <summary>
/// One cell of the table: the group quantized to <see cref="Type"/> (llama.cpp stored it as <see cref="ActualType"/>,
/// which differs where a row length forces a fallback), everything else at the reference type. <see cref="Delta"/>
/// is the paired mean-KLD increase over the reference mix on the same tokens, <see cref="DeltaSe"/> its standard
/// error from the spread of the per-chunk differences.
/// </summary>
/// <see cref="ChunksMeasured"/> is below the sample's size when early stopping decided the cell sooner.
internal sealed record SensitivityEntry(string Group, string Type, string ActualType, long Bytes, long AlignedBytes, double Delta, double DeltaSe, double MeanKld, double Score,
    int ChunksMeasured = 0);

/// <summary>All groups at one type: the sum of their single-group deltas (predicted) against the measured delta.</summary>
internal sealed record AdditivityCheck(string Type, double Predicted, double Measured, double PredictedSe, double MeasuredSe, long TensorBytes);

/// <summary>The output of <c>sensitivity</c>: everything <c>recipe</c> needs.</summary>
internal sealed record SensitivityTable
{
    public required string Model { get; init; }
    public required long ModelBytes { get; init; }
    public required string BaselineLogits { get; init; }
    public string? Imatrix { get; init; }
    /// <summary>The type every tensor outside the measured group keeps (the model's own precision).</summary>
    public required string Reference { get; init; }
    public required string Grouping { get; init; }
    public required IReadOnlyList<string> Types { get; init; }
    public required IReadOnlyList<int> Chunks { get; init; }
    public required long Tokens { get; init; }
    public required ulong Seed { get; init; }
    public required long Alignment { get; init; }
    public required long TotalElements { get; init; }
    /// <summary>Aligned tensor bytes outside every group (norms etc.), kept at their stored type.</summary>
    public required long FixedBytes { get; init; }
    public required double ReferenceMeanKld { get; init; }
    public required double ReferenceScore { get; init; }
    public required IReadOnlyList<GroupInfo> Groups { get; init; }
    public required IReadOnlyList<SensitivityEntry> Entries { get; init; }
    public required IReadOnlyList<AdditivityCheck> Additivity { get; init; }
    /// <summary>Measurements made (reference, groups × types, one all-groups mix per type).</summary>
    public required int Measurements { get; init; }
    /// <summary>Measurements early stopping ended before the last chunk (0 without early stopping).</summary>
    public int StoppedEarly { get; init; }
    /// <summary>Chunks compared over all measurements, against measurements × sample size without early stopping.</summary>
    public long ChunksCompared { get; init; }
    public required double QuantizeSeconds { get; init; }
    public required double KldSeconds { get; init; }

    /// <summary>
    /// Scale from summed single-group deltas to measured deltas (least squares through the origin over the
    /// all-groups checks); 1 when the checks cannot tell.
    /// </summary>
    public double AdditivityFactor
    {
        get
        {
            var usable = Additivity.Where(a => a.Predicted > 0 && double.IsFinite(a.Measured)).ToList();
            double pp = usable.Sum(a => a.Predicted * a.Predicted), pm = usable.Sum(a => a.Predicted * a.Measured);
            return usable.Count == 0 || pp <= 0 || pm <= 0 ? 1 : pm / pp;
        }
    }

    public SensitivityEntry? Find(string group, string type) => Entries.FirstOrDefault(e => e.Group == group && e.Type == type);
}
