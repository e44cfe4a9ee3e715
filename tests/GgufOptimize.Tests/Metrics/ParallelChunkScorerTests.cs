using GgufOptimize.Metrics;

namespace GgufOptimize.Tests.Metrics;

/// <summary>ChunkScorer with threads: positions split over threads and joined in order give the single-threaded result.</summary>
public class ParallelChunkScorerTests
{
    [Theory]
    [InlineData(1, 0, 100)]
    [InlineData(2, 0, 100)]
    [InlineData(3, 7, 100)]
    [InlineData(4, 64, 100)]
    [InlineData(2, 99, 100)]
    [InlineData(2, 0, 1)]
    [InlineData(8, 0, 40)]
    public void Equals_the_single_threaded_scorer_exactly(int threads, int skipFirst, int n)
    {
        const int vocab = 300;
        var random = new Random(threads * 1000 + skipFirst + n);
        var b = new float[n * vocab];
        var t = new float[n * vocab];
        for (int i = 0; i < b.Length; i++) { b[i] = (float)(random.NextDouble() * 8 - 4); t[i] = b[i] + (float)(random.NextDouble() - 0.5); }
        t[Math.Min(n - 1, 20) * vocab + 5] = float.NaN;
        var tokens = Enumerable.Range(0, n).Select(_ => random.Next(vocab)).ToArray();

        var single = ChunkScorer.Score(4, b, t, tokens, vocab, skipFirst);
        var parallel = ChunkScorer.Score(4, LogitRows.Of(b, vocab), LogitRows.Of(t, vocab), tokens, skipFirst, threads);
        Assert.Equal(single.ChunkIndex, parallel.ChunkIndex);
        Assert.Equal(single.Kld, parallel.Kld);
        Assert.Equal(single.DeltaP, parallel.DeltaP);
        Assert.Equal(single.SameTop, parallel.SameTop);
        Assert.Equal(single.LogProbBase, parallel.LogProbBase);
        Assert.Equal(single.LogProbTarget, parallel.LogProbTarget);
        Assert.Equal(single.NonFiniteRows, parallel.NonFiniteRows);

        var half = b.Select(v => (Half)v).ToArray();
        var wide = half.Select(h => (float)h).ToArray();
        Assert.Equal(ChunkScorer.Score(4, wide, t, tokens, vocab, skipFirst).Kld, ChunkScorer.Score(4, LogitRows.Of(half, vocab), LogitRows.Of(t, vocab), tokens, skipFirst, threads).Kld);
        var halfT = t.Select(v => (Half)v).ToArray();
        var wideT = halfT.Select(h => (float)h).ToArray();
        Assert.Equal(ChunkScorer.Score(4, wide, wideT, tokens, vocab, skipFirst).Kld, ChunkScorer.Score(4, LogitRows.Of(half, vocab), LogitRows.Of(halfT, vocab), tokens, skipFirst, threads).Kld);
    }
}
