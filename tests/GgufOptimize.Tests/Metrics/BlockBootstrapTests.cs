using GgufOptimize.Common;
using GgufOptimize.Metrics;

namespace GgufOptimize.Tests.Metrics;

public class BlockBootstrapTests
{
    private static ChunkResult Chunk(int index, float[] kld) =>
        new(index, Array.ConvertAll(kld, v => (double)v), new double[kld.Length], new bool[kld.Length], new double[kld.Length], new double[kld.Length], 0);

    /// <summary>KLD-like data: i.i.d. Exp(1) values scaled per chunk by a shared "difficulty" factor.</summary>
    private static List<ChunkResult> Exponential(int chunks, int tokens, int seed, double difficultySpread = 0.0)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, chunks).Select(c =>
        {
            double difficulty = Math.Exp(difficultySpread * LogitGenerator.Normal(random));
            return Chunk(c, Enumerable.Range(0, tokens).Select(_ => (float)(difficulty * -Math.Log(1 - random.NextDouble()))).ToArray());
        }).ToList();
    }

    [Fact]
    public void Weighted_pool_score_equals_score_of_the_concatenated_resample()
    {
        var random = new Random(12);
        for (int trial = 0; trial < 200; trial++)
        {
            int chunks = 1 + random.Next(6);
            var data = Enumerable.Range(0, chunks).Select(c =>
                Enumerable.Range(0, random.Next(4)).Select(_ => (float)Math.Round(random.NextDouble() * 5, 1)).ToArray()).ToArray();
            var weights = Enumerable.Range(0, chunks).Select(_ => random.Next(4)).ToArray();
            var pool = new PooledKld(data.Select(d => (ReadOnlyMemory<double>)Array.ConvertAll(d, v => (double)v)).ToArray());

            var concatenated = data.SelectMany((d, c) => Enumerable.Repeat(d, weights[c]).SelectMany(x => x)).ToArray();
            double expected = concatenated.Length == 0 ? double.NaN : KldStatistics.Compute(Chunk(0, concatenated)).Score;
            Assert.Equal(expected, pool.Score(weights)); // bit-identical, ties and tiny totals included
        }
    }

    [Fact]
    public void Estimate_is_the_overall_score_and_the_interval_brackets_it()
    {
        var chunks = Exponential(40, 128, seed: 1);
        var interval = BlockBootstrap.ScoreInterval(chunks, new BootstrapOptions(Resamples: 500));
        Assert.Equal(KldStatistics.Compute(chunks).Score, interval.Estimate);
        Assert.True(interval.Lower < interval.Estimate && interval.Estimate < interval.Upper, interval.ToString());
        Assert.Equal(40, interval.Chunks);
    }

    [Fact]
    public void Same_seed_gives_identical_results_regardless_of_threads()
    {
        var chunks = Exponential(30, 64, seed: 2, difficultySpread: 0.3);
        var a = BlockBootstrap.ScoreInterval(chunks, new BootstrapOptions(Resamples: 300, Seed: 7));
        var b = BlockBootstrap.ScoreInterval(chunks, new BootstrapOptions(Resamples: 300, Seed: 7));
        var threaded = BlockBootstrap.ScoreInterval(chunks, new BootstrapOptions(Resamples: 300, Seed: 7, Threads: 2));
        var other = BlockBootstrap.ScoreInterval(chunks, new BootstrapOptions(Resamples: 300, Seed: 8));
        Assert.Equal(a, b);
        Assert.Equal(a, threaded);
        Assert.NotEqual(a.Lower, other.Lower);
    }

    [Fact]
    public void Interval_covers_the_known_population_score_of_exponential_kld()
    {
        // For Exp(1), quantile(f) = −ln(1 − f): the true score is known in closed form.
        double truth = Math.Cbrt(Math.Log(2)) * Math.Pow(Math.Cbrt(Math.Log(100) + 4 * Math.Log(20) + 5 * Math.Log(10)), 2);
        var chunks = Exponential(100, 256, seed: 3);
        var interval = BlockBootstrap.ScoreInterval(chunks, new BootstrapOptions(Resamples: 1000));
        Assert.True(interval.Lower <= truth && truth <= interval.Upper, $"{interval} vs true {truth}");
        Assert.True(interval.IsWithinMargin(0.05), $"relative half-width {interval.RelativeHalfWidth}");
        Assert.False(interval.IsWithinMargin(0.001));
    }

    [Fact]
    public void More_chunk_heterogeneity_widens_the_interval()
    {
        var homogeneous = BlockBootstrap.ScoreInterval(Exponential(60, 128, seed: 4), new BootstrapOptions(Resamples: 500));
        var heterogeneous = BlockBootstrap.ScoreInterval(Exponential(60, 128, seed: 4, difficultySpread: 0.5), new BootstrapOptions(Resamples: 500));
        Assert.True(heterogeneous.RelativeHalfWidth > 2 * homogeneous.RelativeHalfWidth,
            $"{heterogeneous.RelativeHalfWidth} vs {homogeneous.RelativeHalfWidth}");
    }

    [Fact]
    public void Paired_identical_inputs_give_an_interval_containing_zero()
    {
        var chunks = Exponential(50, 128, seed: 5, difficultySpread: 0.4);
        var copy = chunks.Select(c => Chunk(c.ChunkIndex, Array.ConvertAll(c.Kld, v => (float)v))).ToList();
        var paired = BlockBootstrap.Paired(chunks, copy, new BootstrapOptions(Resamples: 400));
        Assert.Equal(0.0, paired.Difference);
        Assert.True(paired.DifferenceLower <= 0 && 0 <= paired.DifferenceUpper);
        Assert.False(paired.IsSignificant);
        Assert.True(paired.IsWithinMargin(0.01));
        Assert.True(paired.ImprovementBelow(0.01));
    }

    [Fact]
    public void Paired_shifted_distribution_gives_an_interval_excluding_zero()
    {
        // B is A's tokens made 10% worse plus token noise; chunk difficulty is shared, as for two quants of one model.
        var a = Exponential(60, 128, seed: 6, difficultySpread: 0.5);
        var random = new Random(60);
        var b = a.Select(c => Chunk(c.ChunkIndex, c.Kld.Select(v => (float)(v * 1.1 * Math.Exp(0.2 * LogitGenerator.Normal(random)))).ToArray())).ToList();

        var paired = BlockBootstrap.Paired(a, b, new BootstrapOptions(Resamples: 1000));
        Assert.True(paired.DifferenceLower > 0, paired.ToString());
        Assert.True(paired.IsSignificant);
        Assert.InRange(paired.RelativeChange, 0.05, 0.2);
        Assert.True(paired.RelativeChangeLower > 0);
        Assert.Equal(0.0, paired.ProbabilityBBetter);

        // Reversed roles: B improves on A, significantly, and by more than 1%.
        var reversed = BlockBootstrap.Paired(b, a, new BootstrapOptions(Resamples: 1000));
        Assert.True(reversed.DifferenceUpper < 0);
        Assert.False(reversed.ImprovementBelow(0.01));
        Assert.Equal(1.0, reversed.ProbabilityBBetter);

        // Unpaired intervals of the two overlap heavily, the paired one still resolves the shift.
        var ia = BlockBootstrap.ScoreInterval(a, new BootstrapOptions(Resamples: 1000));
        var ib = BlockBootstrap.ScoreInterval(b, new BootstrapOptions(Resamples: 1000));
        Assert.True(ib.Lower < ia.Upper, $"{ia} {ib}");
    }

    [Fact]
    public void Paired_requires_the_same_chunks()
    {
        var a = Exponential(3, 8, seed: 7);
        var b = Exponential(4, 8, seed: 7);
        Assert.Throws<ArgumentException>(() => BlockBootstrap.Paired(a, b, new BootstrapOptions()));
        var shifted = a.Select(c => Chunk(c.ChunkIndex + 1, Array.ConvertAll(c.Kld, v => (float)v))).ToList();
        Assert.Throws<ArgumentException>(() => BlockBootstrap.Paired(a, shifted, new BootstrapOptions()));
    }

    [Theory]
    [InlineData(1, 0.95, 1)]
    [InlineData(100, 1.0, 1)]
    [InlineData(100, 0.0, 1)]
    [InlineData(100, 0.95, 0)]
    public void Bad_options_are_bad_input(int resamples, double confidence, int threads)
    {
        var ex = Assert.Throws<GgufOptimizeException>(() =>
            BlockBootstrap.ScoreInterval(Exponential(3, 8, seed: 9), new BootstrapOptions(resamples, confidence, Threads: threads)));
        Assert.Equal(FailureKind.BadInput, ex.Kind);
    }
}
