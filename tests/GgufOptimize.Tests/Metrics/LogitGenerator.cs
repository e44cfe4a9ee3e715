namespace GgufOptimize.Tests.Metrics;

/// <summary>Random logit rows shaped like real ones, and perturbed copies standing in for a quantized model.</summary>
internal static class LogitGenerator
{
    public static float[] Gaussian(Random random, int n, double scale = 3.0, int spikes = 4, double spikeHeight = 12.0)
    {
        var row = new float[n];
        for (int i = 0; i < n; i++) row[i] = (float)(scale * Normal(random));
        for (int s = 0; s < spikes; s++) row[random.Next(n)] += (float)(spikeHeight * random.NextDouble());
        return row;
    }

    public static float[] Perturb(Random random, float[] row, double noise)
    {
        var result = new float[row.Length];
        for (int i = 0; i < row.Length; i++) result[i] = (float)(row[i] + noise * Normal(random));
        return result;
    }

    public static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
