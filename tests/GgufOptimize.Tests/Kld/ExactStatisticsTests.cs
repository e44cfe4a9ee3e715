using GgufOptimize.Common;
using GgufOptimize.Kld;
using GgufOptimize.Logits;
using GgufOptimize.Metrics;
using GgufOptimize.Storage;
using GgufOptimize.Tests.Metrics;
using GgufOptimize.Tests.Storage.Formats;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Kld;

/// <summary>Every reported statistic agrees with a plain float64 reference to 1e-9 relative on the real model's stored logits.</summary>
public class ExactStatisticsTests
{
    /// <summary>numpy's default ('linear') percentile of a sorted array, written out independently of <see cref="Quantiles"/>.</summary>
    private static double Percentile(double[] sorted, double q)
    {
        double h = (sorted.Length - 1) * q;
        int lo = (int)Math.Floor(h);
        return lo + 1 < sorted.Length ? sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]) : sorted[lo];
    }

    [SkippableFact]
    public void Statistics_from_stored_logits_match_a_float64_reference_to_1e_9()
    {
        using var tmp = new TempDir();
        string data = FormatFixtures.Text(tmp, 12000);
        string target = FormatFixtures.Quantized(tmp, "Q4_0");
        foreach (var (model, file) in new[] { (SharedAssets.AidreamsModel, "base.h5"), (target, "target.h5") })
            LogitsJob.Run(new LogitsJobOptions { ModelPath = model, DatasetPath = data, OutputPath = tmp.File(file), ContextSize = 128 }, NullProgress.Instance, default);
        var result = KldJob.Run(new KldJobOptions
        {
            BaselineLogits = tmp.File("base.h5"), TargetLogits = tmp.File("target.h5"), OutputFile = tmp.File("cmp.h5"),
        }, NullProgress.Instance, default);

        // The reference: each scored position's KLD, log P(next), log Q(next) by straightforward float64 sums.
        var kld = new List<double>();
        var logP = new List<double>();
        var logQ = new List<double>();
        double sameTop = 0, dp2 = 0;
        using (var b = BaselineLogitsReader.Open(tmp.File("base.h5")))
        using (var t = BaselineLogitsReader.Open(tmp.File("target.h5")))
        {
            int vocab = b.VocabSize;
            for (int c = 0; c < b.TotalChunks; c++)
            {
                var tokens = b.ChunkTokens(c);
                var p = b.ChunkLogits(c).ToArray();
                var q = t.ChunkLogits(c).ToArray();
                for (int j = 0; j + 1 < tokens.Length; j++)
                {
                    var pr = p.AsSpan(j * vocab, vocab);
                    var qr = q.AsSpan(j * vocab, vocab);
                    kld.Add(ReferenceKld.Kld(pr, qr));
                    double lp = ReferenceKld.LogSoftmax(pr)[tokens[j + 1]], lq = ReferenceKld.LogSoftmax(qr)[tokens[j + 1]];
                    logP.Add(lp);
                    logQ.Add(lq);
                    dp2 += Math.Pow(Math.Exp(lq) - Math.Exp(lp), 2);
                    if (ReferenceKld.ArgMax(pr) == ReferenceKld.ArgMax(qr)) sameTop++;
                }
            }
        }
        int n = kld.Count;
        var sorted = kld.Order().ToArray();
        double mean = kld.Sum() / n;
        double median = Percentile(sorted, 0.5), k99 = Percentile(sorted, 0.99), k95 = Percentile(sorted, 0.95), k90 = Percentile(sorted, 0.90);
        var expected = new Dictionary<string, double>
        {
            ["Average"] = mean,
            ["StdDev"] = Math.Sqrt(kld.Sum(v => (v - mean) * (v - mean)) / n),
            ["Median"] = median, ["KLD_99"] = k99, ["KLD_95"] = k95, ["KLD_90"] = k90,
            ["KLD_10"] = Percentile(sorted, 0.10), ["KLD_05"] = Percentile(sorted, 0.05), ["KLD_01"] = Percentile(sorted, 0.01),
            ["KLD_999"] = Percentile(sorted, 0.999), ["Minimum"] = sorted[0], ["Maximum"] = sorted[^1],
            ["Score"] = Math.Cbrt(median) * Math.Pow(k99 + 4 * k95 + 5 * k90, 2.0 / 3),
            ["PPL_base"] = Math.Exp(-logP.Sum() / n),
            ["PPL_target"] = Math.Exp(-logQ.Sum() / n),
            ["Mean_ln_PPL_ratio"] = logP.Zip(logQ, (a, b) => a - b).Sum() / n,
            ["RMS_dp"] = Math.Sqrt(dp2 / n),
            ["Same_top_p"] = sameTop / n,
        };
        Assert.Equal(n, result.Overall.Tokens);

        // In memory, and as read back from the comparison file (the per-token values are stored in float64).
        var fromFile = KldStatistics.Compute(KldOutputFile.Read(tmp.File("cmp.h5")).Chunks).ToDictionary();
        foreach (var actual in new[] { result.Overall.ToDictionary(), fromFile })
            foreach (var (name, value) in expected)
            {
                double relative = Math.Abs(actual[name] - value) / Math.Abs(value);
                Assert.True(relative <= 1e-9, $"{name}: {actual[name]:R} vs reference {value:R} (relative {relative:E2})");
            }
        Assert.True(expected["Average"] > 1e-4, "Q4_0 must differ from F32 for the check to mean something");
    }
}
