using GgufOptimize.Common;
using GgufOptimize.Gguf;
using GgufOptimize.Kld;
using GgufOptimize.Logits;
using GgufOptimize.Metrics;
using GgufOptimize.Quantization;
using GgufOptimize.Synthetic;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Metrics.Stopping;

/// <summary>
/// Per-chunk token KLD of Q4_0 against F16 for a small synthetic model with outlier channels, on ~170 chunks of
/// random words: the stopping guarantee is checked on real llama.cpp output even where ../shared is absent.
/// </summary>
internal static class SyntheticChunkKld
{
    private static readonly Lazy<IReadOnlyList<ChunkResult>> Data = new(Create);

    public static IReadOnlyList<ChunkResult> Q4_0 => Data.Value;

    private static IReadOnlyList<ChunkResult> Create()
    {
        using var dir = new TempDir();
        string model = dir.File("synthetic.gguf");
        SyntheticModel.Write(model, new SyntheticModelOptions
        {
            VocabSize = 512, EmbeddingLength = 128, LayerCount = 2, HeadCount = 4, ContextLength = 128,
            WeightType = GgmlType.F16, OutlierChannels = 8, OutlierScale = 8, Seed = 11, Name = "stopping-test",
        });
        var words = SyntheticVocabulary.Build(512).Tokens.Where(t => t.StartsWith(SyntheticVocabulary.SpaceMark) && t.Length > 2).ToArray();
        var random = new Random(13);
        File.WriteAllText(dir.File("text.txt"), string.Join(" ", Enumerable.Range(0, 22000).Select(_ => words[random.Next(words.Length)][1..])));
        LogitsJob.Run(new LogitsJobOptions { ModelPath = model, DatasetPath = dir.File("text.txt"), OutputPath = dir.File("base.h5"), ContextSize = 128 },
            NullProgress.Instance, default);
        string q4 = ModelQuantizer.Run(new QuantizeOptions { ModelPath = model, OutputDirectory = dir.Path, Types = [QuantizationTypes.Parse("Q4_0")] },
            NullProgress.Instance).Single().OutputPath;
        return KldJob.Run(new KldJobOptions { BaselineLogits = dir.File("base.h5"), TargetModel = q4, OutputFile = dir.File("cmp.h5") },
            NullProgress.Instance, default).Chunks;
    }
}
