namespace GgufOptimize.Metrics;

/// <summary>Whether a logits row pair could be compared; a non-finite row is excluded and counted, never zeroed.</summary>
[Flags]
internal enum RowStatus
{
    Ok = 0,
    /// <summary>The baseline row holds NaN or ±Inf.</summary>
    BaselineNotFinite = 1,
    /// <summary>The target row holds NaN or ±Inf.</summary>
    TargetNotFinite = 2,
}
