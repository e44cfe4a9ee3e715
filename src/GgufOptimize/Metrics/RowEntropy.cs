namespace GgufOptimize.Metrics;

/// <summary>Shannon entropy (nats) of the softmax of a logits row: how spread a next-token distribution is.</summary>
internal static class RowEntropy
{
    /// <summary>H = log Z − Σ p_i (x_i − max), with Z = Σ e^(x_i − max); NaN for a non-finite row.</summary>
    public static double Of(ReadOnlySpan<float> logits)
    {
        var stats = RowSoftmax.Stats(logits);
        if (!stats.Finite) return double.NaN;
        double z = 0, weighted = 0;
        foreach (float x in logits)
        {
            double d = (double)x - stats.Max;
            double e = Math.Exp(d);
            z += e;
            weighted += e * d;
        }
        return Math.Log(z) - weighted / z;
    }
}
