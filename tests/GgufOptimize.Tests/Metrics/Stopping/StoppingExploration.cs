using GgufOptimize.Metrics;
using Xunit.Abstractions;

namespace GgufOptimize.Tests.Metrics.Stopping;

public class StoppingExploration(ITestOutputHelper output)
{
    [SkippableFact]
    [Trait("Category", "Explore")]
    public void Explore()
    {
        var data = RealChunkKld.Comparisons;
        foreach (var name in new[] { RealChunkKld.Q8_0, RealChunkKld.Q4_K_M, RealChunkKld.Q4_0 })
        {
            var chunks = data[name];
            foreach (int min in new[] { 4, 8, 16, 24 })
                foreach (double margin in new[] { 0.2, 0.3 })
                {
                    var runs = StoppingSimulation.Many(300, 2000, r => StoppingSimulation.Sequential(StoppingSimulation.Window(chunks, 120, r),
                        new EarlyStoppingOptions(margin, min, new BootstrapOptions(Resamples: 300)), (ulong)r.NextInt64()));
                    output.WriteLine($"{name} min {min} margin {margin}: {StoppingSummary.Of(runs)}");
                }
        }
        // autocorrelation of per-chunk mean KLD and of paired differences, text order
        double[] Mean(string n) => data[n].Select(c => c.Kld.Average(v => (double)v)).ToArray();
        void Acf(string label, double[] x)
        {
            double m = x.Average(), v = x.Sum(a => (a - m) * (a - m));
            output.WriteLine(label + ": " + string.Join(" ", Enumerable.Range(1, 6).Select(l => (Enumerable.Range(0, x.Length - l).Sum(i => (x[i] - m) * (x[i + l] - m)) / v).ToString("F3"))));
        }
        foreach (var n in data.Keys) Acf($"acf mean KLD {n}", Mean(n));
        Acf("acf diff Q4_0 - Q4_0+imatrix", Mean(RealChunkKld.Q4_0).Zip(Mean(RealChunkKld.Q4_0Imatrix), (a, b) => a - b).ToArray());
        Acf("acf diff Q4_0 - Q4_K_M", Mean(RealChunkKld.Q4_0).Zip(Mean(RealChunkKld.Q4_K_M), (a, b) => a - b).ToArray());
        Acf("acf log ratio Q4_0 / Q4_0+imatrix", Mean(RealChunkKld.Q4_0).Zip(Mean(RealChunkKld.Q4_0Imatrix), (a, b) => Math.Log(a / b)).ToArray());

        var x = data[RealChunkKld.Q4_0]; var y = data[RealChunkKld.Q4_0Imatrix]; var z = data[RealChunkKld.Q4_K_M]; var q8 = data[RealChunkKld.Q8_0];
        var bs = new BootstrapOptions(Resamples: 400);
        foreach (int len in new[] { 24, 50, 100, 200 })
        {
            foreach (int block in new[] { 1, 8 })
            {
                var nul = PairedSimulation.Many(300, 5000, r =>
                {
                    var (a, b) = PairedSimulation.Window(x, y, PairedSimulation.WindowStart(x.Count, len, r), len);
                    var (ea, eb) = PairedSimulation.Exchangeable(a, b, block, r);
                    return BlockBootstrap.Paired(ea, eb, bs);
                });
                output.WriteLine($"null Q4_0~imatrix len {len} block {block}: {PairedSummary.Of(nul)}");
                var nul2 = PairedSimulation.Many(300, 6000, r =>
                {
                    var (a, b) = PairedSimulation.Window(x, z, PairedSimulation.WindowStart(x.Count, len, r), len);
                    var (ea, eb) = PairedSimulation.Exchangeable(a, b, block, r);
                    return BlockBootstrap.Paired(ea, eb, bs);
                });
                output.WriteLine($"null Q4_0~Q4_K_M len {len} block {block}: {PairedSummary.Of(nul2)}");
            }
            foreach (var (label, a0, b0) in new[] { ("Q4_0 -> imatrix", x, y), ("Q4_0 -> Q4_K_M", x, z), ("Q4_K_M -> Q8_0", z, q8) })
            {
                var pow = PairedSimulation.Many(300, 7000, r =>
                {
                    var (a, b) = PairedSimulation.Window(a0, b0, PairedSimulation.WindowStart(a0.Count, len, r), len);
                    return BlockBootstrap.Paired(a, b, bs);
                });
                output.WriteLine($"power {label} len {len}: {PairedSummary.Of(pow)}");
            }
        }
    }
}
