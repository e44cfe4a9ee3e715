using GgufOptimize.Metrics;
using GgufOptimize.Storage.Formats.Compact;
using GgufOptimize.Tests.Metrics;

namespace GgufOptimize.Tests.Storage.Formats;

public class CompactEncodingTests
{
    [Theory]
    [InlineData(1e-2, 1000, 3.0)]
    [InlineData(1e-4, 32000, 3.0)]
    [InlineData(1e-6, 32000, 1.0)]
    [InlineData(1e-3, 7, 0.5)]
    public void Rows_keep_the_fewest_top_tokens_that_reach_one_minus_epsilon(double epsilon, int vocab, double scale)
    {
        var random = new Random(vocab);
        var encoder = new CompactRowEncoder(epsilon);
        var chunk = new CompactChunk();
        for (int r = 0; r < 6; r++)
        {
            var row = LogitGenerator.Gaussian(random, vocab, scale);
            int next = random.Next(vocab);
            chunk.Clear();
            encoder.Encode(row, next, chunk);
            var exact = ReferenceKld.LogSoftmax(row);
            var order = Enumerable.Range(0, vocab).OrderByDescending(i => row[i]).ThenBy(i => i).ToArray();
            int k = chunk.Counts[0];
            Assert.Equal(order[..k], chunk.Ids.ToArray());
            for (int i = 0; i < k; i++)
            {
                Assert.Equal(row[order[i]], chunk.Logits[i]);
                Assert.Equal(exact[order[i]], chunk.Logits[i] - chunk.LogNorm[0], 1e-12);
            }
            double tail = order[k..].Sum(i => Math.Exp(exact[i]));
            Assert.True(tail <= epsilon * (1 + 1e-9), $"tail {tail} > ε {epsilon}");
            Assert.Equal(tail, chunk.TailMass[0], Math.Max(1e-12, tail * 1e-5));
            // Fewest: without the last stored token the tail would exceed ε.
            Assert.True(k == 1 || tail + Math.Exp(exact[order[k - 1]]) > epsilon);
            Assert.Equal(exact[next], chunk.NextLogit[0] - chunk.LogNorm[0], 1e-12);
        }
    }

    [Fact]
    public void A_non_finite_row_is_stored_as_such_and_compared_as_baseline_not_finite()
    {
        var row = LogitGenerator.Gaussian(new Random(1), 100);
        row[5] = float.NaN;
        var chunk = new CompactChunk();
        new CompactRowEncoder(1e-3).Encode(row, 3, chunk);
        Assert.Equal(0, chunk.Counts[0]);
        Assert.True(float.IsNaN(chunk.TailMass[0]));
        var result = TopTailComparer.Compare(chunk.Ids, chunk.Logits, chunk.LogNorm[0], chunk.TailMass[0], chunk.NextLogit[0], LogitGenerator.Gaussian(new Random(2), 100), 3, new float[100]);
        Assert.Equal(RowStatus.BaselineNotFinite, result.Status);
    }

    /// <summary>
    /// The bound of TopTailComparer: 0 ≤ exact − compact ≤ P_tail · (max − min over tail tokens of (p_i − q_i)), on
    /// random rows and targets perturbed like a quantization, for several ε; next-token values and top-1 are exact.
    /// </summary>
    [Theory]
    [InlineData(1e-2, 0.3)]
    [InlineData(1e-4, 0.3)]
    [InlineData(1e-4, 2.0)]
    [InlineData(1e-6, 0.05)]
    public void Compact_kld_is_below_the_exact_value_by_at_most_the_stated_bound(double epsilon, double noise)
    {
        const int vocab = 4096;
        var random = new Random(17);
        var encoder = new CompactRowEncoder(epsilon);
        var chunk = new CompactChunk();
        var scratch = new float[vocab];
        for (int r = 0; r < 20; r++)
        {
            var p = LogitGenerator.Gaussian(random, vocab);
            var q = LogitGenerator.Perturb(random, p, noise);
            int next = random.Next(vocab);
            chunk.Clear();
            encoder.Encode(p, next, chunk);
            var exact = LogitComparer.Compare(p, q, next);
            var compact = TopTailComparer.Compare(chunk.Ids, chunk.Logits, chunk.LogNorm[0], chunk.TailMass[0], chunk.NextLogit[0], q, next, scratch);

            var top = chunk.Ids.ToArray().ToHashSet();
            var d = Enumerable.Range(0, vocab).Where(i => !top.Contains(i)).Select(i => (double)p[i] - q[i]).ToArray();
            double bound = chunk.TailMass[0] * (d.Max() - d.Min());
            double slack = 1e-9 * exact.Kld + 1e-14;
            Assert.True(compact.Kld <= exact.Kld + slack, $"compact {compact.Kld} above exact {exact.Kld}");
            Assert.True(exact.Kld - compact.Kld <= bound + slack, $"error {exact.Kld - compact.Kld} above bound {bound}");
            Assert.Equal(exact.LogProbBase, compact.LogProbBase, 1e-12);
            Assert.Equal(exact.LogProbTarget, compact.LogProbTarget, 1e-9);
            Assert.Equal(exact.DeltaP, compact.DeltaP, 1e-12);
            Assert.Equal(exact.TopBase, compact.TopBase);
            Assert.Equal(exact.TopTarget, compact.TopTarget);
        }
    }

    [Fact]
    public void With_every_token_stored_the_compact_kld_is_the_exact_kld()
    {
        var random = new Random(3);
        var p = LogitGenerator.Gaussian(random, 64, scale: 0.5, spikes: 0);
        var q = LogitGenerator.Perturb(random, p, 0.4);
        var chunk = new CompactChunk();
        new CompactRowEncoder(1e-300).Encode(p, 1, chunk);
        Assert.Equal(64, chunk.Counts[0]);
        var compact = TopTailComparer.Compare(chunk.Ids, chunk.Logits, chunk.LogNorm[0], chunk.TailMass[0], chunk.NextLogit[0], q, 1, new float[64]);
        Assert.Equal(ReferenceKld.Kld(p, q), compact.Kld, 1e-10 * ReferenceKld.Kld(p, q));
    }
}
