using System.Runtime.Intrinsics;
using GgufOptimize.Metrics;

namespace GgufOptimize.Tests.Metrics;

public class VectorExpTests
{
    /// <summary>Both widths, lane by lane, so each is checked whatever the hardware path of the kernel.</summary>
    private static (double Narrow, double Wide) Exp(double x) =>
        (VectorExp.ExpNonPositive(Vector256.Create(x)).GetElement(2), VectorExp.ExpNonPositive(Vector512.Create(x)).GetElement(5));

    [Fact]
    public void Within_one_ulp_of_Math_Exp_on_the_non_positive_normal_range()
    {
        var random = new Random(99);
        double worst = 0;
        for (int i = 0; i < 200_000; i++)
        {
            // Dense where KLD terms live, and spread down to the smallest normal result.
            double x = i % 2 == 0 ? -40 * random.NextDouble() : -708 * random.NextDouble();
            var (narrow, wide) = Exp(x);
            double expected = Math.Exp(x);
            Assert.Equal(narrow, wide);
            worst = Math.Max(worst, Math.Abs(narrow - expected) / expected);
        }
        Assert.True(worst <= Math.Pow(2, -52), $"max relative error {worst:E3}");
    }

    [Fact]
    public void Zero_minus_infinity_and_underflow_are_exact()
    {
        Assert.Equal((1.0, 1.0), Exp(0));
        Assert.Equal((0.0, 0.0), Exp(double.NegativeInfinity));
        Assert.Equal((0.0, 0.0), Exp(-709.5));
        Assert.Equal((0.0, 0.0), Exp(-1e4));
        Assert.Equal((0.0, 0.0), Exp(-3.4e38));
        // Between 2^−1022 and the flush point results are still correct to an ulp of the smallest normal.
        var (narrow, _) = Exp(-708.3);
        Assert.True(Math.Abs(narrow - Math.Exp(-708.3)) <= 1e-15 * Math.Exp(-708.3) + double.Epsilon, $"{narrow:R}");
    }
}
