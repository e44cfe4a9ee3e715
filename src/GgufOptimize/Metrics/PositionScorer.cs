namespace GgufOptimize.Metrics;

/// <summary>
/// The one partitioner of scoring work: positions [first, end) of a chunk are split into contiguous ranges, one per
/// thread (each with its own scratch row), and collected in position order, so the result does not depend on the
/// thread count. Every per-position comparison of every format goes through here.
/// </summary>
internal static class PositionScorer
{
    /// <summary>Below this many positions per thread a thread hand-off costs more than it saves.</summary>
    private const int MinPositionsPerPart = 16;

    /// <summary>Fills results[position − first] for positions [start, end), using its own scratch row.</summary>
    public delegate void ScoreRange(int start, int end, TokenComparison[] results, float[] scratch);

    public static ChunkResult Score(int chunk, int first, int end, int threads, int scratchLength, ScoreRange score)
    {
        int positions = Math.Max(0, end - first);
        var results = new TokenComparison[positions];
        int parts = Math.Clamp(Math.Min(threads, positions / MinPositionsPerPart), 1, Math.Max(1, threads));
        if (parts == 1) score(first, end, results, new float[scratchLength]);
        else
            Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, p =>
            {
                int s = (int)((long)positions * p / parts), e = (int)((long)positions * (p + 1) / parts);
                score(first + s, first + e, results, new float[scratchLength]);
            });
        var builder = new ChunkResultBuilder(chunk, positions);
        int baselineNonFinite = -1;
        for (int i = 0; i < results.Length; i++)
        {
            if (baselineNonFinite < 0 && (results[i].Status & RowStatus.BaselineNotFinite) != 0) baselineNonFinite = first + i;
            builder.Add(results[i]);
        }
        return builder.Build(baselineNonFinite);
    }
}
