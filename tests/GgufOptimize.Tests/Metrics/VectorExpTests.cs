using System.Runtime.Intrinsics;
using GgufOptimize.Metrics;

namespace GgufOptimize.Tests.Metrics;

public class VectorExpTests
{
    private static double[] Exp4(double a, double b, double c, double d)
    {
        var result = new double[4];
        VectorExp.Exp(Vector256.Create(a, b, c, d)).CopyTo(result);
        return result;
    }

    [Fact]
    public void Within_two_ulp_of_Math_Exp_over_the_normal_range()
    {
        var random = new Random(99);
        double worst = 0;
        for (int i = 0; i < 200_000; i++)
        {
            // Dense near 0 (where KLD terms live) and spread over the whole normal range.
            double x = i % 2 == 0 ? 40 * (random.NextDouble() - 0.75) : 1416 * random.NextDouble() - 708;
            double got = Exp4(x, 0, 0, 0)[0];
            double expected = Math.Exp(x);
            worst = Math.Max(worst, Math.Abs(got - expected) / expected);
        }
        Assert.True(worst <= 2 * Math.Pow(2, -53), $"max relative error {worst:E3}");
    }

    [Fact]
    public void Special_values_and_underflow_are_exact()
    {
        var r = Exp4(0, double.NegativeInfinity, double.PositiveInfinity, double.NaN);
        Assert.Equal(1.0, r[0]);
        Assert.Equal(0.0, r[1]);
        Assert.Equal(double.PositiveInfinity, r[2]);
        Assert.True(double.IsNaN(r[3]));

        var u = Exp4(-1e4, -746, -800, 710);
        Assert.Equal(0.0, u[0]);
        Assert.Equal(0.0, u[1]);
        Assert.Equal(0.0, u[2]);
        Assert.Equal(double.PositiveInfinity, u[3]);

        // Subnormal results are rounded, not flushed: compare against the correctly scaled value.
        foreach (var x in new[] { -709.5, -720.0, -740.0, -744.0 })
        {
            double got = Exp4(x, 0, 0, 0)[0];
            double expected = Math.Exp(x);
            Assert.True(got > 0);
            Assert.True(Math.Abs(got - expected) <= 2 * double.Epsilon + 1e-15 * expected, $"exp({x}) = {got:R}, expected {expected:R}");
        }
    }
}
