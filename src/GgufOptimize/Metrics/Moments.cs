namespace GgufOptimize.Metrics;

/// <summary>Means, variances and standard errors as llama-perplexity defines them, computed in two passes.</summary>
internal static class Moments
{
    /// <summary>Compensated (Neumaier) mean, so tens of thousands of float terms lose nothing visible.</summary>
    public static double Mean(ReadOnlySpan<double> values)
    {
        if (values.Length == 0) return double.NaN;
        double sum = 0, compensation = 0;
        foreach (var v in values)
        {
            double t = sum + v;
            compensation += Math.Abs(sum) >= Math.Abs(v) ? (sum - t) + v : (v - t) + sum;
            sum = t;
        }
        return (sum + compensation) / values.Length;
    }

    /// <summary>Population variance (divide by n, numpy's ddof=0).</summary>
    public static double PopulationVariance(ReadOnlySpan<double> values, double mean)
    {
        if (values.Length == 0) return double.NaN;
        double sum = 0;
        foreach (var v in values) sum += (v - mean) * (v - mean);
        return sum / values.Length;
    }

    public static double PopulationCovariance(ReadOnlySpan<double> a, double meanA, ReadOnlySpan<double> b, double meanB)
    {
        if (a.Length == 0) return double.NaN;
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (a[i] - meanA) * (b[i] - meanB);
        return sum / a.Length;
    }

    /// <summary>Standard error of a mean as llama-perplexity prints it: sqrt(populationVariance / (n − 1)).</summary>
    public static double StandardError(double populationVariance, long count) =>
        count < 2 ? double.NaN : Math.Sqrt(populationVariance / (count - 1));
}
