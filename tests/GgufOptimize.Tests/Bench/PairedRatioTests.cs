using GgufOptimize.Bench;
using GgufOptimize.Tests.Metrics;

namespace GgufOptimize.Tests.Bench;

/// <summary>
/// BENCHMARKS.md states 95 % intervals for paired cost ratios (bench/…/PairedRatio.cs, linked into this assembly);
/// these tests check that the interval covers the true ratio about 95 % of the time, at the round counts used there.
/// </summary>
public sealed class PairedRatioTests
{
    [Theory]
    [InlineData(4, 0.05, 0.08)]
    [InlineData(12, 0.05, 0.06)]
    [InlineData(24, -0.02, 0.10)]
    public void The_95_percent_interval_covers_the_true_ratio_95_percent_of_the_time(int rounds, double logRatio, double spread)
    {
        var random = new Random(1234 + rounds);
        const int trials = 4000;
        int covered = 0;
        for (int t = 0; t < trials; t++)
        {
            var side = new double[rounds];
            var reference = new double[rounds];
            for (int r = 0; r < rounds; r++)
            {
                // A drifting host: both runs of a round share its speed; their ratio scatters log-normally.
                double speed = 10 * Math.Exp(0.2 * LogitGenerator.Normal(random));
                reference[r] = speed;
                side[r] = speed * Math.Exp(logRatio + spread * LogitGenerator.Normal(random));
            }
            var s = PairedRatio.Of(side, reference);
            if (s.Low <= Math.Exp(logRatio) && Math.Exp(logRatio) <= s.High) covered++;
        }
        double coverage = covered / (double)trials;
        // ± 4.4 binomial standard deviations around 0.95; the normal's 1.96 in place of Student's t would give 0.87 at
        // 4 rounds and 0.93 at 12.
        Assert.InRange(coverage, 0.935, 0.965);
    }

    [Fact]
    public void Fewer_than_three_rounds_give_no_interval()
    {
        var s = PairedRatio.Of([11.0, 12.0], [10.0, 10.0]);
        Assert.Equal(1.15, s.Median, 12);
        Assert.True(double.IsNaN(s.Low) && double.IsNaN(s.High));
        Assert.StartsWith("+15.0 % median (n=2", PairedRatio.Describe([11.0, 12.0], [10.0, 10.0]));
    }

    [Theory]
    [InlineData(1, 12.706)]
    [InlineData(11, 2.201)]
    [InlineData(30, 2.042)]
    [InlineData(40, 2.021)]
    [InlineData(120, 1.980)]
    public void Student_t_quantile_matches_the_tables(int df, double expected) =>
        Assert.Equal(expected, PairedRatio.StudentT975(df), 2);
}
