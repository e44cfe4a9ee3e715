using GgufOptimize.Common;
using GgufOptimize.Metrics;

namespace GgufOptimize.Tests.Metrics;

public class EarlyStoppingRuleTests
{
    private static ReadOnlyMemory<double>[] Exponential(int chunks, int tokens, int seed, double scale = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, chunks).Select(_ => (ReadOnlyMemory<double>)Enumerable.Range(0, tokens)
            .Select(_ => scale * -Math.Log(1 - random.NextDouble())).ToArray()).ToArray();
    }

    [Fact]
    public void Looks_grow_geometrically_from_the_minimum_and_stay_below_the_range()
    {
        Assert.Equal([16, 24, 36, 54, 81, 122, 183, 275], EarlyStoppingRule.Schedule(16, 300));
        Assert.Equal([2, 3, 5, 8], EarlyStoppingRule.Schedule(2, 10));
        Assert.Empty(EarlyStoppingRule.Schedule(16, 16));
        var rule = new EarlyStoppingRule(300, new EarlyStoppingOptions(0.05, 16, new BootstrapOptions(Confidence: 0.95)));
        Assert.Equal(1 - 0.05 / 8, rule.LookConfidence, 12);
        Assert.Equal(3, rule.LookAt(36));
        Assert.Equal(0, rule.LookAt(37));
    }

    [Fact]
    public void Chunk_order_is_a_permutation_fixed_by_the_seed()
    {
        var chunks = Enumerable.Range(5, 100).ToArray();
        var a = ChunkOrder.Shuffled(chunks, 7);
        Assert.Equal(a, ChunkOrder.Shuffled(chunks, 7));
        Assert.NotEqual(a, ChunkOrder.Shuffled(chunks, 8));
        Assert.NotEqual(chunks, a);
        Assert.Equal(chunks, a.Order());
    }

    [Theory]
    [InlineData(0.975, 1.959963985)]
    [InlineData(0.5, 0.0)]
    [InlineData(0.001, -3.090232306)]
    [InlineData(0.9999, 3.719016485)]
    public void Normal_quantiles_match_tables(double p, double z) => Assert.Equal(z, NormalDistribution.Quantile(p), 6);

    [Fact]
    public void A_stop_means_the_interval_lies_within_the_margin_and_uses_the_spent_confidence()
    {
        var data = Exponential(400, 128, seed: 1);
        var rule = new EarlyStoppingRule(400, new EarlyStoppingOptions(0.05, 16, new BootstrapOptions(Resamples: 400)));
        StoppingLook? stop = null;
        foreach (int n in rule.Looks)
        {
            var look = rule.Evaluate(data[..n]);
            Assert.Equal(KldStatistics.Compute(new ChunkResult(0, data[..n].SelectMany(c => c.ToArray()).ToArray(), new double[n * 128], new bool[n * 128], new double[n * 128], new double[n * 128], 0)).Score, look.Estimate, 12);
            Assert.True(look.Lower < look.Estimate && look.Estimate < look.Upper);
            if (look.Stop) { stop = look; break; }
            Assert.True(look.RelativeHalfWidth > 0.05);
        }
        Assert.NotNull(stop);
        Assert.True(stop.Lower >= stop.Estimate / 1.05 - 1e-12 && stop.Upper <= stop.Estimate * 1.05 + 1e-12, stop.ToString());
        Assert.Equal(rule.LookConfidence, stop.LookConfidence);
    }

    [Fact]
    public void The_interval_narrows_to_nothing_as_the_sample_approaches_the_whole_range()
    {
        var data = Exponential(60, 64, seed: 2);
        var options = new EarlyStoppingOptions(0.01, 20, new BootstrapOptions(Resamples: 300));
        var wide = new EarlyStoppingRule(10_000, options).Evaluate(data[..45]);
        var nearlyAll = new EarlyStoppingRule(46, options).Evaluate(data[..45]);
        Assert.True(nearlyAll.LogHalfWidth < wide.LogHalfWidth / 4, $"{nearlyAll} vs {wide}");
    }

    [Fact]
    public void Identical_models_stop_at_once_with_an_exact_zero()
    {
        var zeros = Enumerable.Range(0, 30).Select(_ => (ReadOnlyMemory<double>)new double[16]).ToArray();
        var look = new EarlyStoppingRule(100, new EarlyStoppingOptions(0.05, 30, new BootstrapOptions(Resamples: 100))).Evaluate(zeros);
        Assert.True(look.Stop);
        Assert.Equal(0, look.Lower);
        Assert.Equal(0, look.Upper);
    }

    [Theory]
    [InlineData(0.0, 16)]
    [InlineData(1.0, 16)]
    [InlineData(0.05, 1)]
    public void Bad_options_are_bad_input(double margin, int minChunks)
    {
        var ex = Assert.Throws<GgufOptimizeException>(() => new EarlyStoppingRule(100, new EarlyStoppingOptions(margin, minChunks, new BootstrapOptions())));
        Assert.Equal(FailureKind.BadInput, ex.Kind);
    }
}
