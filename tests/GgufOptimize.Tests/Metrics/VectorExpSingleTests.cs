using System.Runtime.Intrinsics;
using GgufOptimize.Metrics;

namespace GgufOptimize.Tests.Metrics;

public class VectorExpSingleTests
{
    private static (float Narrow, float Wide) Exp(float x) =>
        (VectorExpSingle.ExpNonPositive(Vector256.Create(x)).GetElement(3), VectorExpSingle.ExpNonPositive(Vector512.Create(x)).GetElement(11));

    [Fact]
    public void Within_its_stated_relative_error_on_the_normal_range()
    {
        var random = new Random(5);
        double worst = 0;
        for (int i = 0; i < 200_000; i++)
        {
            float x = (float)(i % 2 == 0 ? -30 * random.NextDouble() : -87 * random.NextDouble());
            var (narrow, wide) = Exp(x);
            double expected = Math.Exp(x);
            Assert.Equal(narrow, wide);
            worst = Math.Max(worst, Math.Abs(narrow - expected) / expected);
        }
        // The selector's BelowSumError assumes at most 2.5e-7 per term.
        Assert.True(worst <= 2.5e-7, $"max relative error {worst:E3}");
    }

    [Fact]
    public void Zero_below_the_normal_range_and_at_minus_infinity()
    {
        Assert.Equal((1f, 1f), Exp(0));
        Assert.Equal((0f, 0f), Exp(float.NegativeInfinity));
        Assert.Equal((0f, 0f), Exp(-87.5f));
        Assert.Equal((0f, 0f), Exp(-3e38f));
        var (atEdge, _) = Exp(-87f);
        Assert.True(Math.Abs(atEdge - Math.Exp(-87.0)) <= 2.5e-7 * Math.Exp(-87.0), $"{atEdge:R}");
    }
}
