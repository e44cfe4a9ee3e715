namespace GgufOptimize.Metrics;

/// <summary>
/// The composite score S = Median^(1/3) · (KLD_99 + 4·KLD_95 + 5·KLD_90)^(2/3); lower is better. Same formula and
/// weights as llama-gguf-optimize's "Composite Metric" (src/extras/composite_comparsion.py).
/// </summary>
internal static class CompositeScore
{
    public static double Compute(double median, double kld99, double kld95, double kld90) =>
        Math.Pow(median, 1.0 / 3.0) * Math.Pow(kld99 + 4 * kld95 + 5 * kld90, 2.0 / 3.0);

    internal const double Q50 = 0.50, Q90 = 0.90, Q95 = 0.95, Q99 = 0.99;
}
