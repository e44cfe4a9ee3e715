using System.Globalization;

namespace GgufOptimize.Bench;

/// <summary>
/// A cost ratio from paired rounds (each round measures both sides close together in time): the per-round ratios,
/// their median, and a 95 % interval for the typical ratio from the mean of the log ratios (Student's t). Pairing
/// cancels the host's slow drift, which moves single runs on this VM by 10–30 % within minutes; what is left is the
/// spread between the two runs of a round. The tests link this file and check the interval's coverage.
/// </summary>
internal static class PairedRatio
{
    /// <summary>Per-round ratios, their median, their geometric mean and its 95 % interval (NaN bounds below 3 rounds).</summary>
    public readonly record struct Summary(double[] Ratios, double Median, double GeometricMean, double Low, double High);

    public static Summary Of(IEnumerable<double> side, IEnumerable<double> reference)
    {
        var ratios = side.Zip(reference, (s, r) => s / r).ToArray();
        if (ratios.Length == 0) return new Summary(ratios, double.NaN, double.NaN, double.NaN, double.NaN);
        double median = Medians.Of(ratios);
        var logs = ratios.Select(r => Math.Log(r)).ToArray();
        double mean = logs.Average();
        if (logs.Length < 3) return new Summary(ratios, median, Math.Exp(mean), double.NaN, double.NaN);
        double sd = Math.Sqrt(logs.Sum(x => (x - mean) * (x - mean)) / (logs.Length - 1));
        double half = StudentT975(logs.Length - 1) * sd / Math.Sqrt(logs.Length);
        return new Summary(ratios, median, Math.Exp(mean), Math.Exp(mean - half), Math.Exp(mean + half));
    }

    /// <summary>"+4.1 % median, +3.9 % geometric mean (95 %: +1.2 … +7.1 %, n=12; rounds +3.0, …)" for <paramref name="side"/> over <paramref name="reference"/>.</summary>
    public static string Describe(IEnumerable<double> side, IEnumerable<double> reference)
    {
        var s = Of(side, reference);
        if (s.Ratios.Length == 0) return "no rounds";
        static string Pct(double ratio) => ((ratio - 1) * 100).ToString("+0.0;-0.0", CultureInfo.InvariantCulture);
        string rounds = string.Join(", ", s.Ratios.Select(r => Pct(r)));
        if (double.IsNaN(s.Low)) return $"{Pct(s.Median)} % median (n={s.Ratios.Length}; rounds {rounds})";
        return $"{Pct(s.Median)} % median, {Pct(s.GeometricMean)} % geometric mean (95 %: {Pct(s.Low)} … {Pct(s.High)} %, n={s.Ratios.Length}; rounds {rounds})";
    }

    /// <summary>The 97.5th percentile of Student's t with <paramref name="df"/> degrees of freedom (table to 30, then the normal's 1.96 plus a first-order correction).</summary>
    public static double StudentT975(int df)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(df, 1);
        double[] table = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                          2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042];
        return df <= table.Length ? table[df - 1] : 1.96 + 2.4 / df;
    }
}
