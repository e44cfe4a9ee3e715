namespace GgufOptimize.Metrics;

/// <summary>
/// When a comparison may stop before its last chunk, with a guarantee that holds however many times it looks.
/// <list type="bullet">
/// <item>Chunks are compared in a seeded random order (<see cref="ChunkOrder"/>), so after n chunks they are a simple
/// random sample of the N chunks of the range, and the quantity of interest is the Score over all N.</item>
/// <item>The rule looks only at n = MinChunks, then each count ≥ <see cref="EarlyStoppingOptions.LookGrowth"/> times
/// the previous (below N): K looks in all, known before the first chunk.</item>
/// <item>Each look's interval has confidence 1 − α/K (α = 1 − confidence): by the union bound all K intervals cover
/// the full Score together with probability ≥ 1 − α, so the one at which the run stops does too.</item>
/// <item>The interval is log S ± z·se·√((N − n)/(N − 1)): se is the block-bootstrap standard deviation of log Score
/// (chunks as blocks), the square root the finite-population correction of sampling without replacement.</item>
/// <item>The run stops when the interval lies within [S/(1+m), S·(1+m)]: then coverage implies that the estimate is
/// within ±m (relative) of the full Score.</item>
/// </list>
/// </summary>
internal sealed class EarlyStoppingRule
{
    private readonly EarlyStoppingOptions _options;
    private readonly double _z;

    public int TotalChunks { get; }

    /// <summary>Chunk counts at which the rule looks, ascending; empty when the range is not longer than the minimum.</summary>
    public IReadOnlyList<int> Looks { get; }

    /// <summary>Confidence of each look's interval: 1 − α/K.</summary>
    public double LookConfidence { get; }

    public EarlyStoppingRule(int totalChunks, EarlyStoppingOptions options)
    {
        options.Validate();
        _options = options;
        TotalChunks = totalChunks;
        Looks = Schedule(options.MinChunks, totalChunks);
        LookConfidence = Looks.Count == 0 ? options.Bootstrap.Confidence : 1 - (1 - options.Bootstrap.Confidence) / Looks.Count;
        _z = NormalDistribution.Quantile(1 - (1 - LookConfidence) / 2);
    }

    /// <summary>MinChunks, then ⌈previous·growth⌉, while below <paramref name="total"/> (at N chunks the Score is known).</summary>
    public static IReadOnlyList<int> Schedule(int minChunks, int total)
    {
        var looks = new List<int>();
        for (double n = minChunks; n < total; n = Math.Max(Math.Ceiling(n * EarlyStoppingOptions.LookGrowth), n + 1))
            looks.Add((int)n);
        return looks;
    }

    /// <summary>The look number (1-based) made after <paramref name="chunks"/> chunks, or 0 when none is.</summary>
    public int LookAt(int chunks)
    {
        int i = BinarySearch(chunks);
        return i < 0 ? 0 : i + 1;
    }

    private int BinarySearch(int chunks)
    {
        int lo = 0, hi = Looks.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) / 2;
            if (Looks[mid] == chunks) return mid;
            if (Looks[mid] < chunks) lo = mid + 1; else hi = mid - 1;
        }
        return -1;
    }

    /// <summary>The look after the chunks compared so far (in the order they were compared); their count must be a look.</summary>
    public StoppingLook Evaluate(IReadOnlyList<ReadOnlyMemory<double>> chunks)
    {
        int look = LookAt(chunks.Count);
        if (look == 0) throw new ArgumentException($"{chunks.Count} chunks is not a look of the schedule {string.Join(',', Looks)}");
        var (estimate, scores) = BlockBootstrap.ResampledScores(chunks, _options.Bootstrap);
        double fpc = Math.Sqrt((double)(TotalChunks - chunks.Count) / (TotalChunks - 1));
        double half = _z * LogStandardDeviation(estimate, scores) * fpc;
        double lower = estimate * Math.Exp(-half), upper = estimate * Math.Exp(half);
        bool stop = half <= Math.Log(1 + _options.Margin);
        return new StoppingLook(look, chunks.Count, estimate, lower, upper, LookConfidence, half, stop);
    }

    /// <summary>
    /// Standard deviation of log Score over the resamples. A zero Score leaves the log undefined: all-zero means the
    /// Score is exactly 0 (spread 0), otherwise the spread is unbounded and the run cannot stop yet.
    /// </summary>
    private static double LogStandardDeviation(double estimate, double[] scores)
    {
        if (estimate == 0 && scores.All(s => s == 0)) return 0;
        double sum = 0, sumSq = 0;
        int n = 0;
        foreach (var s in scores)
        {
            if (double.IsNaN(s)) continue;
            if (!(s > 0) || double.IsInfinity(s)) return double.PositiveInfinity;
            double l = Math.Log(s);
            sum += l;
            sumSq += l * l;
            n++;
        }
        if (!(estimate > 0) || n < 2) return double.PositiveInfinity;
        double mean = sum / n;
        return Math.Sqrt(Math.Max(0, (sumSq - n * mean * mean) / (n - 1)));
    }
}
