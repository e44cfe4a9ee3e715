namespace GgufOptimize.Metrics;

/// <summary>
/// Scores the positions of a chunk: row j of the logits predicts tokens[j+1], so positions skipFirst …
/// tokens.Length−2 are scored (the last row has no next token inside the chunk). skipFirst = tokens.Length/2
/// reproduces llama-perplexity --kl-divergence. Threads split the positions (<see cref="ChunkScoring"/>); every
/// token is computed by the same kernel, so the result is identical for any thread count.
/// </summary>
internal static class ChunkScorer
{
    public static ChunkResult Score(int chunkIndex, LogitRows baseline, LogitRows target, int[] tokens, int skipFirst = 0, int threads = 1) =>
        Begin(chunkIndex, baseline, target, tokens, skipFirst, threads).ScoreAll();

    /// <summary>
    /// The same scoring fed a range of positions at a time (<see cref="ChunkScoring.Score"/>): the rows may be
    /// <see cref="LogitWindow"/>s that hold only the batch being scored.
    /// </summary>
    public static ChunkScoring Begin(int chunkIndex, LogitRows baseline, LogitRows target, int[] tokens, int skipFirst = 0, int threads = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(skipFirst);
        if (baseline.VocabSize != target.VocabSize)
            throw new ArgumentException($"baseline rows have {baseline.VocabSize} logits, target rows have {target.VocabSize}");
        if (baseline.Count != tokens.Length || target.Count != tokens.Length)
            throw new ArgumentException($"expected {tokens.Length} rows (one per token); baseline has {baseline.Count}, target has {target.Count}");
        int n = baseline.VocabSize;
        int first = Math.Min(skipFirst, Math.Max(0, tokens.Length - 1));
        return new ChunkScoring(chunkIndex, first, tokens.Length - 1, threads, 2 * n, (start, end, results, scratch) =>
        {
            for (int j = start; j < end; j++)
                results[j - first] = LogitComparer.Compare(baseline.Row(j, scratch.AsSpan(0, n)), target.Row(j, scratch.AsSpan(n, n)), tokens[j + 1]);
        })
        {
            // A memory-mapped baseline drops the pages of rows already scored.
            Scored = (start, end) => baseline.Release(start, end - start),
        };
    }

    /// <summary>Single-threaded, over float32 arrays (tokens.Length × nVocab, row-major).</summary>
    public static ChunkResult Score(int chunkIndex, float[] baseline, float[] target, int[] tokens, int nVocab, int skipFirst = 0) =>
        Score(chunkIndex, LogitRows.Of(baseline, nVocab), LogitRows.Of(target, nVocab), tokens, skipFirst);
}
