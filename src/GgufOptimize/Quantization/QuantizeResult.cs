namespace GgufOptimize.Quantization;

internal enum QuantizeStatus
{
    /// <summary>--dry-run: planned, nothing written.</summary>
    Planned,
    /// <summary>The output existed and --overwrite was not given.</summary>
    Skipped,
    Written,
}

/// <summary>What happened to one requested type.</summary>
internal sealed record QuantizeOutcome(QuantizePlan Plan, QuantizeStatus Status, TimeSpan Elapsed, long FileBytes)
{
    public string OutputPath => Plan.OutputPath;
}
