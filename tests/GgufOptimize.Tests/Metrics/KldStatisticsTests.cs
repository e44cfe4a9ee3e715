using GgufOptimize.Metrics;

namespace GgufOptimize.Tests.Metrics;

public class KldStatisticsTests
{
    private static ChunkResult Chunk(int index, double[] kld, double[]? logP = null, double[]? logQ = null, double[]? dp = null, bool[]? same = null, int nonFinite = 0)
    {
        int n = kld.Length;
        return new ChunkResult(index, kld, dp ?? new double[n], same ?? new bool[n], logP ?? new double[n], logQ ?? new double[n], nonFinite);
    }

    private static ChunkResult Chunk(int index, float[] kld, float[]? logP = null, float[]? logQ = null, float[]? dp = null, bool[]? same = null, int nonFinite = 0) =>
        Chunk(index, Wide(kld), logP is null ? null : Wide(logP), logQ is null ? null : Wide(logQ), dp is null ? null : Wide(dp), same, nonFinite);

    private static double[] Wide(float[] values) => Array.ConvertAll(values, v => (double)v);

    [Fact]
    public void Quantiles_equal_numpy_linear_on_hand_cases()
    {
        // np.percentile([1,2,3,4,10], [50,90,95,99,10,5,1,99.9]) and np.percentile([1,2,3,4], [50,90,99]).
        double[] odd = [1, 2, 3, 4, 10];
        Assert.Equal(3.0, Quantiles.Linear(odd, 0.5));
        Assert.Equal(7.6000000000000005, Quantiles.Linear(odd, 0.9), 1e-12);
        Assert.Equal(8.799999999999999, Quantiles.Linear(odd, 0.95), 1e-12);
        Assert.Equal(9.76, Quantiles.Linear(odd, 0.99), 1e-12);
        Assert.Equal(1.4, Quantiles.Linear(odd, 0.1), 1e-12);
        Assert.Equal(1.2, Quantiles.Linear(odd, 0.05), 1e-12);
        Assert.Equal(1.04, Quantiles.Linear(odd, 0.01), 1e-12);
        Assert.Equal(9.976000000000003, Quantiles.Linear(odd, 0.999), 1e-12);
        Assert.Equal(1.0, Quantiles.Linear(odd, 0));
        Assert.Equal(10.0, Quantiles.Linear(odd, 1));

        double[] even = [1, 2, 3, 4];
        Assert.Equal(2.5, Quantiles.Linear(even, 0.5));
        Assert.Equal(3.7, Quantiles.Linear(even, 0.9), 1e-12);
        Assert.Equal(3.9699999999999998, Quantiles.Linear(even, 0.99), 1e-12);

        Assert.Equal(7.0, Quantiles.Linear([7.0], 0.9));
        Assert.True(double.IsNaN(Quantiles.Linear([], 0.5)));
    }

    [Fact]
    public void Kld_group_and_score_on_a_hand_case()
    {
        var stats = KldStatistics.Compute(Chunk(0, [10, 2, 4, 1, 3]));
        Assert.Equal(4.0, stats.Average);
        Assert.Equal(Math.Sqrt(10), stats.StdDev, 1e-15); // population (ddof=0): Σ(x−4)² = 50, /5
        Assert.Equal(3.0, stats.Median);
        Assert.Equal(1.0, stats.Minimum);
        Assert.Equal(10.0, stats.Maximum);
        Assert.Equal(9.76, stats.KLD_99, 1e-12);
        Assert.Equal(8.8, stats.KLD_95, 1e-12);
        Assert.Equal(7.6, stats.KLD_90, 1e-12);
        Assert.Equal(1.4, stats.KLD_10, 1e-12);
        Assert.Equal(1.2, stats.KLD_05, 1e-12);
        Assert.Equal(1.04, stats.KLD_01, 1e-12);
        Assert.Equal(9.976, stats.KLD_999, 1e-12);
        // 3^(1/3) · (9.76 + 4·8.8 + 5·7.6)^(2/3); numpy + the Python formula give 27.433817622501753.
        Assert.Equal(27.433817622501753, stats.Score, 1e-12);
        Assert.Equal(Math.Cbrt(3) * Math.Pow(Math.Cbrt(82.96), 2), stats.Score, 1e-12);
        Assert.Equal(5, stats.Tokens);
        Assert.Equal(1, stats.Chunks);
    }

    [Fact]
    public void Overall_is_computed_over_the_concatenation_of_chunks()
    {
        var random = new Random(5);
        var chunks = Enumerable.Range(0, 7).Select(c =>
        {
            int n = 3 + random.Next(40);
            return Chunk(c, Enumerable.Range(0, n).Select(_ => (float)random.NextDouble()).ToArray(),
                Enumerable.Range(0, n).Select(_ => (float)-random.NextDouble()).ToArray(),
                Enumerable.Range(0, n).Select(_ => (float)-random.NextDouble()).ToArray(),
                Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray(),
                Enumerable.Range(0, n).Select(_ => random.Next(2) == 0).ToArray(), nonFinite: c % 2);
        }).ToList();
        var merged = Chunk(0, chunks.SelectMany(c => c.Kld).ToArray(), chunks.SelectMany(c => c.LogProbBase).ToArray(),
            chunks.SelectMany(c => c.LogProbTarget).ToArray(), chunks.SelectMany(c => c.DeltaP).ToArray(), chunks.SelectMany(c => c.SameTop).ToArray());

        var overall = KldStatistics.Compute(chunks).ToDictionary();
        var single = KldStatistics.Compute(merged).ToDictionary();
        foreach (var name in KldStatistics.Names)
        {
            if (name is "Chunks" or "NonFiniteRows") continue;
            Assert.Equal(single[name], overall[name], 1e-13);
        }
        Assert.Equal(7, overall["Chunks"]);
        Assert.Equal(3, overall["NonFiniteRows"]);
    }

    [Fact]
    public void Perplexity_group_matches_llama_perplexity_sum_formulas()
    {
        var random = new Random(8);
        int n = 300;
        var logP = Enumerable.Range(0, n).Select(_ => (float)(-3 * random.NextDouble())).ToArray();
        var logQ = logP.Select(v => (float)(v - 0.2 * random.NextDouble() + 0.05)).ToArray();
        var dp = Enumerable.Range(0, n).Select(i => (float)(Math.Exp(logQ[i]) - Math.Exp(logP[i]))).ToArray();
        var same = Enumerable.Range(0, n).Select(i => i % 5 != 0).ToArray();
        var kld = Enumerable.Range(0, n).Select(_ => (float)(0.1 * random.NextDouble())).ToArray();
        var stats = KldStatistics.Compute(Chunk(0, kld, logP, logQ, dp, same));

        // llama.cpp accumulates sums of nll, nll², products, and derives everything from them.
        double sumNll = 0, sumNll2 = 0, sumBase = 0, sumBase2 = 0, sumCross = 0, sumKld = 0, sumKld2 = 0, sumDp2 = 0, sumDp4 = 0;
        for (int i = 0; i < n; i++)
        {
            double nll = -logQ[i], nllBase = -logP[i], d2 = (double)dp[i] * dp[i];
            sumNll += nll; sumNll2 += nll * nll; sumBase += nllBase; sumBase2 += nllBase * nllBase; sumCross += nll * nllBase;
            sumKld += kld[i]; sumKld2 += (double)kld[i] * kld[i]; sumDp2 += d2; sumDp4 += d2 * d2;
        }
        (double Mean, double Err) MeanAndError(double s, double s2) { double f = s / n; return (f, Math.Sqrt((s2 / n - f * f) / (n - 1))); }
        var logPpl = MeanAndError(sumNll, sumNll2);
        var logPplBase = MeanAndError(sumBase, sumBase2);
        double cov = (sumCross / n - sumNll / n * (sumBase / n)) / (n - 1);

        Assert.Equal(Math.Exp(logPpl.Mean), stats.PPL_target, 1e-12);
        Assert.Equal(Math.Exp(logPplBase.Mean), stats.PPL_base, 1e-12);
        Assert.Equal(logPpl.Mean - logPplBase.Mean, stats.Mean_ln_PPL_ratio, 1e-12);
        Assert.Equal(Math.Exp(logPpl.Mean - logPplBase.Mean), stats.PPL_ratio, 1e-12);
        Assert.Equal(Math.Sqrt(logPpl.Err * logPpl.Err + logPplBase.Err * logPplBase.Err - 2 * cov), stats.Mean_ln_PPL_ratio_SE, 1e-9);
        Assert.Equal(cov / (logPpl.Err * logPplBase.Err), stats.Cor_ln_PPL, 1e-9);
        Assert.Equal(MeanAndError(sumKld, sumKld2).Err, stats.Mean_KLD_SE, 1e-9);
        var mse = MeanAndError(sumDp2, sumDp4);
        Assert.Equal(Math.Sqrt(mse.Mean), stats.RMS_dp, 1e-12);
        Assert.Equal(0.5 / Math.Sqrt(mse.Mean) * mse.Err, stats.RMS_dp_SE, 1e-9);
        Assert.Equal(0.8, stats.Same_top_p, 1e-15);
        Assert.Equal(Math.Sqrt(0.8 * 0.2 / (n - 1)), stats.Same_top_p_SE, 1e-15);
    }

    [Fact]
    public void Names_are_the_documented_statistic_names()
    {
        string[] expected =
        [
            "Average", "StdDev", "Median", "Minimum", "Maximum", "KLD_99", "KLD_95", "KLD_90", "KLD_10", "KLD_05", "KLD_01",
            "KLD_999", "Score", "PPL_base", "PPL_target", "PPL_ratio", "Mean_ln_PPL_ratio", "Mean_ln_PPL_ratio_SE",
            "Cor_ln_PPL", "Mean_KLD_SE", "RMS_dp", "RMS_dp_SE", "Same_top_p", "Same_top_p_SE", "Tokens", "Chunks", "NonFiniteRows",
        ];
        Assert.Equal(expected, KldStatistics.Names);
        var stats = KldStatistics.Compute(Chunk(0, [1, 2, 3]));
        Assert.Equal(expected.Order(StringComparer.Ordinal), stats.ToDictionary().Keys.Order(StringComparer.Ordinal));
        Assert.Equal(stats.KLD_95, stats.ToDictionary()["KLD_95"]);
    }

    [Fact]
    public void Empty_input_gives_nan_and_zero_counts()
    {
        var stats = KldStatistics.Compute(Array.Empty<ChunkResult>());
        Assert.Equal(0, stats.Tokens);
        Assert.True(double.IsNaN(stats.Average) && double.IsNaN(stats.Median) && double.IsNaN(stats.Score) && double.IsNaN(stats.PPL_base));
    }
}
