namespace GgufOptimize.Tests.Metrics;

/// <summary>Straightforward float64 scalar KL divergence and next-token log-probabilities, independent of the kernel.</summary>
internal static class ReferenceKld
{
    public static double[] LogSoftmax(ReadOnlySpan<float> logits)
    {
        double max = double.NegativeInfinity;
        foreach (var v in logits) max = Math.Max(max, v);
        double sum = 0;
        foreach (var v in logits) sum += Math.Exp(v - max);
        double logSum = Math.Log(sum);
        var result = new double[logits.Length];
        for (int i = 0; i < logits.Length; i++) result[i] = (logits[i] - max) - logSum;
        return result;
    }

    public static double Kld(ReadOnlySpan<float> p, ReadOnlySpan<float> q)
    {
        var logP = LogSoftmax(p);
        var logQ = LogSoftmax(q);
        double kld = 0;
        for (int i = 0; i < logP.Length; i++)
        {
            double pi = Math.Exp(logP[i]);
            if (pi > 0) kld += pi * (logP[i] - logQ[i]);
        }
        return kld;
    }

    public static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }
}
