namespace GgufOptimize.Tuning;

/// <summary>The dimensions the search moves along, one at a time.</summary>
internal enum TuningDimension
{
    /// <summary>Physical micro-batch (compute step size).</summary>
    UBatch,
    /// <summary>CPU threads.</summary>
    Threads,
    /// <summary>Logical batch (tokens per decode call).</summary>
    Batch,
}

/// <summary>
/// The candidate values of each dimension for one context size and machine: powers of two from
/// <see cref="MinBatch"/> up to the context (and the context itself) for batch and ubatch, with ubatch ≤ batch;
/// 1, 2, 4, ... threads up to the logical processors, plus the physical core count. A step moves one dimension to
/// its neighbouring value, which keeps the search on a small log-scale grid instead of every combination.
/// </summary>
internal sealed class TuningSpace
{
    /// <summary>Smallest batch tried: below it llama.cpp's per-call overhead dominates any model.</summary>
    public const int MinBatch = 32;

    public int ContextSize { get; }
    public IReadOnlyList<int> BatchValues { get; }
    public IReadOnlyList<int> ThreadValues { get; }
    /// <summary>The settings every command uses without options (the baseline every candidate is compared with).</summary>
    public TuningSetting Defaults { get; }

    /// <param name="contextSize">Tokens per chunk: the largest batch.</param>
    /// <param name="defaultThreads">The threads a command uses without -t (or the -t given, when <paramref name="searchThreads"/> is false).</param>
    /// <param name="physicalCores">Physical cores (llama.cpp is usually fastest on these).</param>
    /// <param name="logicalProcessors">Logical processors: the most threads tried.</param>
    /// <param name="searchThreads">False keeps the threads at <paramref name="defaultThreads"/> (the user chose them).</param>
    public TuningSpace(int contextSize, int defaultThreads, int physicalCores, int logicalProcessors, bool searchThreads = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(contextSize);
        ContextSize = contextSize;
        var batches = new SortedSet<int> { contextSize };
        for (int b = Math.Min(MinBatch, contextSize); b < contextSize; b *= 2) batches.Add(b);
        BatchValues = [.. batches];
        int logical = Math.Max(1, logicalProcessors);
        int baseThreads = searchThreads ? Math.Clamp(defaultThreads, 1, logical) : Math.Max(1, defaultThreads);
        var threads = new SortedSet<int> { baseThreads, Math.Clamp(physicalCores, 1, logical), logical };
        for (int t = 1; t < logical; t *= 2) threads.Add(t);
        ThreadValues = searchThreads ? [.. threads] : [baseThreads];
        Defaults = new TuningSetting(contextSize, contextSize, baseThreads);
    }

    /// <summary>
    /// <paramref name="setting"/> moved one value along <paramref name="dimension"/> (down for a negative
    /// <paramref name="direction"/>), or null at the edge. Lowering the batch below the ubatch lowers the ubatch with
    /// it; the ubatch never rises above the batch.
    /// </summary>
    public TuningSetting? Step(TuningSetting setting, TuningDimension dimension, int direction)
    {
        int sign = Math.Sign(direction);
        switch (dimension)
        {
            case TuningDimension.Threads:
                return Neighbour(ThreadValues, setting.Threads, sign) is { } t ? setting with { Threads = t } : null;
            case TuningDimension.UBatch:
                return Neighbour(BatchValues, setting.UBatch, sign) is { } u && u <= setting.Batch ? setting with { UBatch = u } : null;
            default:
                return Neighbour(BatchValues, setting.Batch, sign) is { } b ? setting with { Batch = b, UBatch = Math.Min(setting.UBatch, b) } : null;
        }
    }

    private static int? Neighbour(IReadOnlyList<int> values, int current, int sign)
    {
        if (sign > 0)
        {
            foreach (int v in values) if (v > current) return v;
            return null;
        }
        for (int i = values.Count - 1; i >= 0; i--) if (values[i] < current) return values[i];
        return null;
    }
}
