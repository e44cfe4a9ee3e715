using System.Runtime.CompilerServices;

namespace GgufOptimize.Metrics;

/// <summary>
/// Quantiles by linear interpolation between order statistics: numpy's default ('linear', Hyndman–Fan type 7).
/// For n sorted values and fraction f: h = f·(n−1), result = x[⌊h⌋] + (h−⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]).
/// </summary>
internal static class Quantiles
{
    /// <summary>The f-quantile (0 ≤ f ≤ 1) of ascending-sorted values; NaN for an empty span.</summary>
    public static double Linear(ReadOnlySpan<double> sorted, double fraction)
    {
        if (fraction is < 0 or > 1 || double.IsNaN(fraction))
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "must be in [0, 1]");
        if (sorted.Length == 0) return double.NaN;
        var (lower, weight) = Position(sorted.Length, fraction);
        return weight == 0 ? sorted[(int)lower] : Interpolate(sorted[(int)lower], sorted[(int)lower + 1], weight);
    }

    /// <summary>Index of the lower order statistic and the interpolation weight of the next one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (long Lower, double Weight) Position(long count, double fraction)
    {
        double h = fraction * (count - 1);
        long lower = (long)Math.Floor(h);
        if (lower >= count - 1) return (count - 1, 0);
        return (lower, h - lower);
    }

    /// <summary>numpy's lerp: anchored at whichever end is nearer, so it is exact at both ends and monotone.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double Interpolate(double a, double b, double t)
    {
        double diff = b - a;
        return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
    }
}
