using GgufOptimize.Metrics;

namespace GgufOptimize.Tests.Metrics;

public class ChunkScorerTests
{
    private const int Vocab = 77;

    private static (float[] P, float[] Q, int[] Tokens) MakeChunk(int tokens, int seed)
    {
        var random = new Random(seed);
        var p = new float[tokens * Vocab];
        var q = new float[tokens * Vocab];
        for (int j = 0; j < tokens; j++)
        {
            var row = LogitGenerator.Gaussian(random, Vocab, spikes: 1);
            row.CopyTo(p, j * Vocab);
            LogitGenerator.Perturb(random, row, 0.3).CopyTo(q, j * Vocab);
        }
        return (p, q, Enumerable.Range(0, tokens).Select(_ => random.Next(Vocab)).ToArray());
    }

    [Fact]
    public void Scores_every_position_with_a_next_token()
    {
        var (p, q, tokens) = MakeChunk(9, 1);
        var chunk = ChunkScorer.Score(4, p, q, tokens, Vocab);
        Assert.Equal(4, chunk.ChunkIndex);
        Assert.Equal(8, chunk.Count);
        for (int j = 0; j < 8; j++)
        {
            var expected = LogitComparer.Compare(p.AsSpan(j * Vocab, Vocab), q.AsSpan(j * Vocab, Vocab), tokens[j + 1]);
            Assert.Equal(expected.Kld, chunk.Kld[j]);
            Assert.Equal(expected.LogProbBase, chunk.LogProbBase[j]);
            Assert.Equal(expected.LogProbTarget, chunk.LogProbTarget[j]);
            Assert.Equal(expected.DeltaP, chunk.DeltaP[j]);
            Assert.Equal(expected.SameTop, chunk.SameTop[j]);
            Assert.Equal(ReferenceKld.LogSoftmax(p.AsSpan(j * Vocab, Vocab))[tokens[j + 1]], chunk.LogProbBase[j], 1e-6);
        }
    }

    [Fact]
    public void Skip_first_scores_only_later_positions()
    {
        var (p, q, tokens) = MakeChunk(10, 2);
        var all = ChunkScorer.Score(0, p, q, tokens, Vocab);
        var late = ChunkScorer.Score(0, p, q, tokens, Vocab, skipFirst: 5);
        Assert.Equal(4, late.Count); // rows 5..8
        Assert.Equal(all.Kld[5..], late.Kld);
        Assert.Empty(ChunkScorer.Score(0, p, q, tokens, Vocab, skipFirst: 9).Kld);
    }

    [Fact]
    public void Non_finite_rows_are_excluded_and_counted_per_chunk()
    {
        var (p, q, tokens) = MakeChunk(6, 3);
        var clean = ChunkScorer.Score(0, p, q, tokens, Vocab);
        q[2 * Vocab + 10] = float.NaN;
        q[4 * Vocab] = float.PositiveInfinity;
        var chunk = ChunkScorer.Score(0, p, q, tokens, Vocab);
        Assert.Equal(2, chunk.NonFiniteRows);
        Assert.Equal(3, chunk.Count);
        Assert.Equal(new[] { clean.Kld[0], clean.Kld[1], clean.Kld[3] }, chunk.Kld);
        Assert.All(chunk.Kld, v => Assert.True(double.IsFinite(v)));

        var other = ChunkScorer.Score(1, p, p, tokens, Vocab);
        var stats = KldStatistics.Compute([chunk, other]);
        Assert.Equal(2, stats.NonFiniteRows);
        Assert.Equal(8, stats.Tokens);
    }

    [Fact]
    public void Half_overloads_equal_the_float_path_on_widened_logits()
    {
        var (p, q, tokens) = MakeChunk(5, 4);
        var pHalf = p.Select(v => (Half)v).ToArray();
        var qHalf = q.Select(v => (Half)v).ToArray();
        var pWide = pHalf.Select(h => (float)h).ToArray();
        var qWide = qHalf.Select(h => (float)h).ToArray();

        var both = ChunkScorer.Score(0, LogitRows.Of(pHalf, Vocab), LogitRows.Of(qHalf, Vocab), tokens);
        var mixed = ChunkScorer.Score(0, LogitRows.Of(pHalf, Vocab), LogitRows.Of(q, Vocab), tokens);
        Assert.Equal(ChunkScorer.Score(0, pWide, qWide, tokens, Vocab).Kld, both.Kld);
        Assert.Equal(ChunkScorer.Score(0, pWide, q, tokens, Vocab).Kld, mixed.Kld);
    }

    [Fact]
    public void Shape_mismatch_is_rejected()
    {
        var (p, q, tokens) = MakeChunk(4, 5);
        Assert.Throws<ArgumentException>(() => ChunkScorer.Score(0, p, q[Vocab..], tokens, Vocab));
        Assert.Throws<ArgumentException>(() => ChunkScorer.Score(0, p, q, tokens[1..], Vocab));
        Assert.Throws<ArgumentException>(() => ChunkScorer.Score(0, p, q[1..], tokens, Vocab));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChunkScorer.Score(0, p, q, tokens, Vocab, skipFirst: -1));
    }
}
