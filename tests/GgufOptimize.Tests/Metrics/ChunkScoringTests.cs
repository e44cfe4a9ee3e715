using GgufOptimize.Metrics;

namespace GgufOptimize.Tests.Metrics;

/// <summary>Scoring a chunk a range of rows at a time (<see cref="ChunkScoring"/>) through <see cref="LogitWindow"/>s.</summary>
public class ChunkScoringTests
{
    private const int Vocab = 50, Tokens = 90;

    private static (float[] P, float[] Q, int[] Tokens) Chunk(int seed)
    {
        var random = new Random(seed);
        var p = new float[Tokens * Vocab];
        var q = new float[Tokens * Vocab];
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = (float)(random.NextDouble() * 8 - 4);
            q[i] = p[i] + (float)(random.NextDouble() - 0.5);
        }
        return (p, q, Enumerable.Range(0, Tokens).Select(_ => random.Next(Vocab)).ToArray());
    }

    [Theory]
    [InlineData(1, 0, 1)]
    [InlineData(7, 13, 2)]
    [InlineData(32, 40, 3)]
    [InlineData(89, 5, 2)]
    public void Batches_give_the_whole_chunks_result_bit_for_bit(int batch, int skip, int threads)
    {
        var (p, q, tokens) = Chunk(batch);
        var whole = ChunkScorer.Score(4, LogitRows.Of(p, Vocab), LogitRows.Of(q, Vocab), tokens, skip, threads);
        var pw = new LogitWindow(Tokens, Vocab);
        var qw = new LogitWindow(Tokens, Vocab);
        var scoring = ChunkScorer.Begin(4, pw, qw, tokens, skip, threads);
        for (int first = 0; first < Tokens; first += batch)
        {
            int n = Math.Min(batch, Tokens - first);
            pw.Show(first, LogitRows.Of(p.AsMemory(first * Vocab, n * Vocab), Vocab));
            qw.Show(first, LogitRows.Of(q.AsMemory(first * Vocab, n * Vocab), Vocab));
            scoring.Score(first, first + n);
        }
        var streamed = scoring.Finish();
        Assert.Equal(whole.Kld.Length, streamed.Kld.Length);
        Assert.Equal(whole.Kld.ToArray().Select(BitConverter.DoubleToInt64Bits), streamed.Kld.ToArray().Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(whole.LogProbTarget.ToArray().Select(BitConverter.DoubleToInt64Bits), streamed.LogProbTarget.ToArray().Select(BitConverter.DoubleToInt64Bits));
    }

    [Fact]
    public void A_row_outside_the_batch_missing_rows_and_rows_out_of_order_fail_loudly()
    {
        var (p, q, tokens) = Chunk(3);
        var window = new LogitWindow(Tokens, Vocab);
        window.Show(10, LogitRows.Of(q.AsMemory(10 * Vocab, 5 * Vocab), Vocab));
        Assert.Equal(q[(12 * Vocab)..(13 * Vocab)], window.Row(12, new float[Vocab]).ToArray());
        Assert.Throws<InvalidOperationException>(() => window.Row(9, new float[Vocab]).ToArray());
        Assert.Throws<InvalidOperationException>(() => window.Row(15, new float[Vocab]).ToArray());

        var scoring = ChunkScorer.Begin(0, LogitRows.Of(p, Vocab), LogitRows.Of(q, Vocab), tokens, 0, 1);
        scoring.Score(0, 30);
        Assert.Throws<InvalidOperationException>(() => scoring.Finish());        // positions 30.. never arrived
        Assert.Throws<InvalidOperationException>(() => scoring.Score(40, 50));    // 30..39 skipped
        scoring.Score(30, Tokens);
        Assert.Equal(Tokens - 1, scoring.Finish().Kld.Length);
    }
}
