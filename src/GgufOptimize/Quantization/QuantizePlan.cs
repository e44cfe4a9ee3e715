namespace GgufOptimize.Quantization;

/// <summary>One tensor of a planned output: its type before and after, and its size in both.</summary>
internal sealed record PlannedTensor(string Name, IReadOnlyList<long> Dimensions, string SourceType, string TargetType, long SourceBytes, long TargetBytes)
{
    public long Elements => Dimensions.Aggregate(1L, (a, d) => a * d);
    public bool Converted => !string.Equals(SourceType, TargetType, StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// A tensor whose row length does not fit the type the mixture wanted. <see cref="ByLlamaCpp"/>: llama.cpp's own
/// fallback (k-quants); otherwise llama.cpp would have failed and we chose <see cref="UsedType"/> instead.
/// </summary>
internal sealed record TypeSubstitution(string Tensor, long RowLength, long BlockSize, string WantedType, string UsedType, bool ByLlamaCpp)
{
    public string Reason => ByLlamaCpp
        ? $"{WantedType} needs rows in multiples of {BlockSize}, rows here have {RowLength}: llama.cpp falls back to {UsedType}"
        : $"{WantedType} needs rows in multiples of {BlockSize}, rows here have {RowLength}, and llama.cpp has no fallback for {WantedType} (it would fail)";
}

/// <summary>Tensors that end up in one type.</summary>
internal sealed record TypeShare(string Type, int Tensors, long Elements, long Bytes)
{
    public double BitsPerWeight => Elements > 0 ? Bytes * 8.0 / Elements : 0;
}

/// <summary>What quantizing to one type will produce, as llama.cpp itself decided it in a dry run.</summary>
internal sealed record QuantizePlan(QuantizationType Type, string OutputPath, IReadOnlyList<PlannedTensor> Tensors, IReadOnlyList<TypeSubstitution> Substitutions)
{
    public long SourceBytes => Tensors.Sum(t => t.SourceBytes);
    public long TargetBytes => Tensors.Sum(t => t.TargetBytes);
    public long Elements => Tensors.Sum(t => t.Elements);
    /// <summary>Tensor data bits per weight over all tensors (as llama-quantize reports it).</summary>
    public double BitsPerWeight => Elements > 0 ? TargetBytes * 8.0 / Elements : 0;

    public IReadOnlyList<TypeShare> ByType => Tensors
        .GroupBy(t => t.TargetType, StringComparer.OrdinalIgnoreCase)
        .Select(g => new TypeShare(g.Key, g.Count(), g.Sum(t => t.Elements), g.Sum(t => t.TargetBytes)))
        .OrderByDescending(s => s.Bytes)
        .ToList();

    /// <summary>The substitutions we made so that llama.cpp does not fail (not its own fallbacks).</summary>
    public IEnumerable<TypeSubstitution> OwnSubstitutions => Substitutions.Where(s => !s.ByLlamaCpp);
}
