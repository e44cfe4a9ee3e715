using GgufOptimize.Metrics;

namespace GgufOptimize.Tests.Workflow;

/// <summary>Constructed comparisons whose true difference is known: per-token KLD drawn once, then scaled.</summary>
internal static class ComparisonFixtures
{
    /// <summary><paramref name="chunks"/> chunks of <paramref name="tokens"/> KLD values, log-normal, with chunk-to-chunk difficulty.</summary>
    public static IReadOnlyList<ChunkResult> Baseline(int chunks, int tokens, int seed)
    {
        var random = new Random(seed);
        var result = new List<ChunkResult>();
        for (int c = 0; c < chunks; c++)
        {
            double difficulty = Math.Exp(0.3 * GgufOptimize.Tests.Metrics.LogitGenerator.Normal(random));
            var kld = new float[tokens];
            for (int t = 0; t < tokens; t++) kld[t] = (float)(0.02 * difficulty * Math.Exp(1.2 * GgufOptimize.Tests.Metrics.LogitGenerator.Normal(random)));
            result.Add(Chunk(c, kld));
        }
        return result;
    }

    /// <summary>The same tokens with every chunk's KLD multiplied by its own factor (the Score scales with it exactly).</summary>
    public static IReadOnlyList<ChunkResult> Scaled(IReadOnlyList<ChunkResult> source, Func<int, double> factor) =>
        source.Select(c => Chunk(c.ChunkIndex, c.Kld.Select(v => (float)(v * factor(c.ChunkIndex))).ToArray())).ToList();

    public static ChunkResult Chunk(int index, float[] kld)
    {
        int n = kld.Length;
        var same = new bool[n];
        var logP = new float[n];
        var logQ = new float[n];
        for (int i = 0; i < n; i++)
        {
            same[i] = kld[i] < 0.05f;
            logP[i] = -1.5f - 0.01f * (i % 7);
            logQ[i] = logP[i] - kld[i];
        }
        return new ChunkResult(index, Wide(kld), kld.Select(v => (double)(-v / 4)).ToArray(), same, Wide(logP), Wide(logQ), 0);
    }

    private static double[] Wide(float[] values) => Array.ConvertAll(values, v => (double)v);
}
