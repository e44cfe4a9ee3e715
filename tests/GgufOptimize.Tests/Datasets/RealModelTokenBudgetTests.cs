using GgufOptimize.Common;
using GgufOptimize.Datasets;
using GgufOptimize.Datasets.Output;
using GgufOptimize.Datasets.Selection;
using GgufOptimize.Datasets.Sources;
using GgufOptimize.Engine;
using GgufOptimize.Tests.Support;
using static GgufOptimize.Tests.Datasets.DatasetTestHelpers;

namespace GgufOptimize.Tests.Datasets;

/// <summary>--num-tokens with the real model's tokenizer through llama.cpp.</summary>
public class RealModelTokenBudgetTests
{
    [SkippableFact]
    public async Task Token_budget_uses_the_models_own_token_counts()
    {
        string text = SharedAssets.AidreamsText;
        using var model = LlamaModel.Load(SharedAssets.AidreamsModel);
        using var counter = new LlamaTokenCounter(model);
        using var tmp = new TempDir();
        var request = new DatasetRequest
        {
            Sources = [new TextFileSource(text)],
            NumTokens = 1500,
            Subsets = [300, 1500],
            Shuffle = true,
            Seed = 11,
            Tokenizer = counter,
        };
        var manifest = await DatasetBuilder.BuildAsync(request, DatasetOutput.ToDirectory(tmp.File("out")), NullProgress.Instance);
        Assert.StartsWith("aidreams260K-f32.gguf (", manifest.Selection.Tokenizer);
        foreach (var subset in manifest.Subsets)
        {
            var samples = ReadSamples(Path.Combine(tmp.File("out"), subset.File));
            var counts = samples.Select(s => model.Tokenize(s).Length).ToList();
            Assert.Equal(counts.Sum(), subset.Tokens);
            Assert.True(counts.Sum() >= subset.Size);
            Assert.True(counts.Sum() - counts[^1] < subset.Size);
        }
        var larger = ReadSamples(Path.Combine(tmp.File("out"), manifest.Subsets[1].File));
        Assert.Equal(ReadSamples(Path.Combine(tmp.File("out"), manifest.Subsets[0].File)), larger.Take((int)manifest.Subsets[0].Samples));
    }

    [SkippableFact]
    public async Task Sample_counts_get_token_totals_in_the_manifest()
    {
        string text = SharedAssets.AidreamsText;
        using var counter = LlamaTokenCounter.Open(SharedAssets.AidreamsModel);
        using var tmp = new TempDir();
        var request = new DatasetRequest { Sources = [new TextFileSource(text)], NumSamples = 12, Tokenizer = counter };
        var manifest = await DatasetBuilder.BuildAsync(request, DatasetOutput.ToFile(tmp.File("d.txt")), NullProgress.Instance);
        var samples = ReadSamples(tmp.File("d.txt"));
        Assert.Equal(12, samples.Count);
        Assert.Equal(samples.Sum(counter.CountTokens), manifest.Subsets[0].Tokens);
        Assert.Equal(manifest.Subsets[0].Tokens, manifest.Languages[0].SelectedTokens);
        Assert.True(manifest.Subsets[0].Tokens > 12 * 5);
    }
}
