using GgufOptimize.Metrics;
using Xunit.Abstractions;

namespace GgufOptimize.Tests.Metrics.Stopping;

/// <summary>
/// The promise of the paired block bootstrap behind `iterate`'s stopping rule, checked on real comparisons in text
/// order: on pairs of equal quality (the labels of two real quantizations swapped per chunk by a fair coin, so the two
/// sides are exchangeable) "significant" comes up at most as often as 1 − confidence allows (plus two binomial standard
/// errors); on pairs of different quality it comes up almost always.
/// </summary>
[Trait("Category", "Slow")]
public class PairedGuaranteeTests(ITestOutputHelper output)
{
    private const double Confidence = 0.95;
    private const int Runs = 200;
    private static readonly BootstrapOptions Bootstrap = new(Resamples: 400, Confidence: Confidence);

    [SkippableTheory]
    [InlineData(RealChunkKld.Q4_0, RealChunkKld.Q4_0Imatrix)]
    [InlineData(RealChunkKld.Q4_0, RealChunkKld.Q4_K_M)]
    public void Equal_quality_pairs_are_rarely_called_significant(string x, string y)
    {
        var a0 = RealChunkKld.Comparisons[x];
        var b0 = RealChunkKld.Comparisons[y];
        double alpha = 1 - Confidence;
        foreach (int length in new[] { 50, 100, a0.Count })
        {
            var runs = PairedSimulation.Many(Runs, 40 + length, r =>
            {
                var (a, b) = PairedSimulation.Window(a0, b0, PairedSimulation.WindowStart(a0.Count, length, r), length);
                var (ea, eb) = PairedSimulation.Exchangeable(a, b, 1, r);
                return BlockBootstrap.Paired(ea, eb, Bootstrap);
            });
            var summary = PairedSummary.Of(runs);
            // iterate continues only on a significant improvement: a one-sided error, at most α/2.
            double falseContinue = runs.Average(p => p.DifferenceUpper < 0 && -p.RelativeChange >= 0.01 ? 1.0 : 0);
            output.WriteLine($"equal quality ({x} / {y} swapped per chunk), {length} chunks: {summary}; iterate would continue {falseContinue:P1}");
            Assert.True(summary.Significant <= alpha + 2 * StoppingSummary.StandardError(alpha, Runs), summary.ToString());
            Assert.True(falseContinue <= alpha / 2 + 2 * StoppingSummary.StandardError(alpha / 2, Runs), $"false continue {falseContinue}");
        }
    }

    [SkippableTheory]
    [InlineData(RealChunkKld.Q4_0, RealChunkKld.Q4_0Imatrix)]
    [InlineData(RealChunkKld.Q4_0, RealChunkKld.Q4_K_M)]
    [InlineData(RealChunkKld.Q4_K_M, RealChunkKld.Q8_0)]
    public void Better_quantizations_are_found_significantly_better(string worse, string better)
    {
        var a0 = RealChunkKld.Comparisons[worse];
        var b0 = RealChunkKld.Comparisons[better];
        foreach (int length in new[] { 24, 50 })
        {
            var runs = PairedSimulation.Many(Runs, 70 + length, r =>
            {
                var (a, b) = PairedSimulation.Window(a0, b0, PairedSimulation.WindowStart(a0.Count, length, r), length);
                return BlockBootstrap.Paired(a, b, Bootstrap);
            });
            var summary = PairedSummary.Of(runs);
            output.WriteLine($"{better} against {worse}, {length} chunks: {summary}");
            Assert.True(summary.BWorse == 0, summary.ToString());
            Assert.True(summary.BBetter >= 0.8, $"power below 80 %: {summary}");
        }
    }
}
