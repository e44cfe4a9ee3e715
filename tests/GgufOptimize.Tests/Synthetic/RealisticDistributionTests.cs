using GgufOptimize.Synthetic;
using GgufOptimize.Tests.Support;
using Xunit.Abstractions;

namespace GgufOptimize.Tests.Synthetic;

/// <summary>The realistic preset's next-token entropies, measured through llama.cpp (docs/synthetic-models.md).</summary>
public class RealisticDistributionTests(ITestOutputHelper output)
{
    [Slow]
    [Fact]
    public void Realistic_32k_model_has_median_entropy_near_two_nats_and_a_heavy_tail()
    {
        using var dir = new TempDir();
        string path = dir.File("m.gguf");
        SyntheticModel.Write(path, SyntheticModelOptions.Realistic(32000) with { ContextLength = 256 });
        var h = SyntheticEntropyProbe.MeasureOnVocabularyWords(path, tokens: 512, ctx: 256);
        output.WriteLine($"median {h.Median:F2}, p90 {h.P90:F2}, p99 {h.P99:F2} nats over {h.Count} positions");
        Assert.InRange(h.Median, 1.5, 2.5);
        Assert.InRange(h.P90, 3.5, 5.5);
        Assert.True(h.P90 - h.Median > 1.5, "the spread between confident and uncertain contexts is the point of the preset");
    }

    [Slow]
    [Fact]
    public void Flat_model_stays_the_hard_case()
    {
        using var dir = new TempDir();
        string path = dir.File("m.gguf");
        SyntheticModel.Write(path, SyntheticModelOptions.Flat(32000) with { ContextLength = 256 });
        var h = SyntheticEntropyProbe.MeasureOnVocabularyWords(path, tokens: 256, ctx: 256);
        output.WriteLine($"median {h.Median:F2}, p90 {h.P90:F2} nats over {h.Count} positions");
        Assert.True(h.Median > 4, $"flat model median entropy {h.Median:F2} nats");
    }
}
