namespace GgufOptimize.Metrics;

/// <summary>
/// <see cref="ChunkScorer"/> spread over threads by contiguous position ranges. Every token is computed by the same
/// kernel and the parts are joined in position order, so the result is identical to the single-threaded one.
/// </summary>
public static unsafe class ParallelChunkScorer
{
    /// <summary>Positions below this per thread are not worth a thread hand-off.</summary>
    private const int MinPositionsPerPart = 16;

    public static ChunkResult Score(int chunkIndex, ReadOnlySpan<float> baseline, ReadOnlySpan<float> target,
        ReadOnlySpan<int> tokens, int nVocab, int skipFirst, int threads)
    {
        fixed (float* b = baseline) fixed (float* t = target) fixed (int* k = tokens)
        {
            float* bp = b, tp = t;
            int* kp = k;
            return Run(chunkIndex, tokens.Length, nVocab, skipFirst, threads,
                (first, count) => ChunkScorer.Score(chunkIndex, new ReadOnlySpan<float>(bp + (long)first * nVocab, count * nVocab),
                    new ReadOnlySpan<float>(tp + (long)first * nVocab, count * nVocab), new ReadOnlySpan<int>(kp + first, count), nVocab));
        }
    }

    public static ChunkResult Score(int chunkIndex, ReadOnlySpan<Half> baseline, ReadOnlySpan<float> target,
        ReadOnlySpan<int> tokens, int nVocab, int skipFirst, int threads)
    {
        fixed (Half* b = baseline) fixed (float* t = target) fixed (int* k = tokens)
        {
            Half* bp = b;
            float* tp = t;
            int* kp = k;
            return Run(chunkIndex, tokens.Length, nVocab, skipFirst, threads,
                (first, count) => ChunkScorer.Score(chunkIndex, new ReadOnlySpan<Half>(bp + (long)first * nVocab, count * nVocab),
                    new ReadOnlySpan<float>(tp + (long)first * nVocab, count * nVocab), new ReadOnlySpan<int>(kp + first, count), nVocab));
        }
    }

    public static ChunkResult Score(int chunkIndex, ReadOnlySpan<Half> baseline, ReadOnlySpan<Half> target,
        ReadOnlySpan<int> tokens, int nVocab, int skipFirst, int threads)
    {
        fixed (Half* b = baseline) fixed (Half* t = target) fixed (int* k = tokens)
        {
            Half* bp = b, tp = t;
            int* kp = k;
            return Run(chunkIndex, tokens.Length, nVocab, skipFirst, threads,
                (first, count) => ChunkScorer.Score(chunkIndex, new ReadOnlySpan<Half>(bp + (long)first * nVocab, count * nVocab),
                    new ReadOnlySpan<Half>(tp + (long)first * nVocab, count * nVocab), new ReadOnlySpan<int>(kp + first, count), nVocab));
        }
    }

    /// <summary>
    /// Splits the scored positions [skipFirst, n−1) into parts; part [s, e) is scored from rows s..e (row e only
    /// is not scored there: its token is the next token of position e−1; the next part scores it).
    /// </summary>
    private static ChunkResult Run(int chunkIndex, int n, int nVocab, int skipFirst, int threads, Func<int, int, ChunkResult> scoreRange)
    {
        int first = Math.Min(skipFirst, Math.Max(0, n - 1));
        int positions = Math.Max(0, n - 1 - first);
        int parts = Math.Clamp(Math.Min(threads, positions / MinPositionsPerPart), 1, Math.Max(1, threads));
        if (parts == 1) return scoreRange(first, n - first);
        var results = new ChunkResult[parts];
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, p =>
        {
            int s = first + (int)((long)positions * p / parts);
            int e = first + (int)((long)positions * (p + 1) / parts);
            results[p] = scoreRange(s, e - s + 1);
        });
        return Join(chunkIndex, results);
    }

    private static ChunkResult Join(int chunkIndex, ChunkResult[] parts)
    {
        int total = parts.Sum(p => p.Count);
        var kld = new double[total]; var dp = new double[total]; var same = new bool[total];
        var lpb = new double[total]; var lpt = new double[total];
        int at = 0, nonFinite = 0;
        foreach (var p in parts)
        {
            p.Kld.CopyTo(kld, at); p.DeltaP.CopyTo(dp, at); p.SameTop.CopyTo(same, at);
            p.LogProbBase.CopyTo(lpb, at); p.LogProbTarget.CopyTo(lpt, at);
            at += p.Count;
            nonFinite += p.NonFiniteRows;
        }
        return new ChunkResult(chunkIndex, kld, dp, same, lpb, lpt, nonFinite);
    }
}
