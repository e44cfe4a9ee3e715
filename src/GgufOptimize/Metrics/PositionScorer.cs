namespace GgufOptimize.Metrics;

/// <summary>
/// The one partitioner of scoring work: positions [first, end) of a chunk are split into contiguous ranges, one per
/// thread (each with its own scratch row), and collected in position order, so the result does not depend on the
/// thread count. Every per-position comparison of every format goes through here, whole (this) or a batch of rows at a
/// time (<see cref="ChunkScoring"/>, which does the work).
/// </summary>
internal static class PositionScorer
{
    /// <summary>Fills results[position − first] for positions [start, end), using its own scratch row.</summary>
    public delegate void ScoreRange(int start, int end, TokenComparison[] results, float[] scratch);

    public static ChunkResult Score(int chunk, int first, int end, int threads, int scratchLength, ScoreRange score) =>
        new ChunkScoring(chunk, first, end, threads, scratchLength, score).ScoreAll();
}

