using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Logits;
using GgufOptimize.Storage;
using GgufOptimize.Synthetic;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Logits;

/// <summary>
/// A vocabulary large enough that a whole context of logits is hundreds of megabytes: the default batch is capped (so
/// llama.cpp's output buffer stays bounded), the write queue copies each batch in row slices, and the file still holds
/// exactly the logits llama.cpp computed, bit for bit.
/// </summary>
[Collection("engine-workflow")]
public class LargeVocabularyLogitsTests
{
    private const int Vocab = 70_000, Context = 1024;

    [Fact]
    public void The_default_batch_keeps_one_batch_of_logits_within_its_budget()
    {
        Assert.Equal(2048, EvaluatorOptions.DefaultBatch(32_000));
        Assert.Equal(512, EvaluatorOptions.DefaultBatch(128_256));
        Assert.Equal(512, EvaluatorOptions.DefaultBatch(262_144)); // never below llama.cpp's default micro-batch
        foreach (int vocab in new[] { 1000, 32_000, 49_152, 65_536, 70_000, 128_256, 151_936, 262_144 })
        {
            int batch = EvaluatorOptions.DefaultBatch(vocab);
            Assert.True(batch == EvaluatorOptions.MinimumDefaultBatch || (long)batch * vocab * sizeof(float) <= EvaluatorOptions.DefaultBatchLogitsBytes, $"vocab {vocab}: {batch}");
            Assert.True((long)batch * 2 * vocab * sizeof(float) > EvaluatorOptions.DefaultBatchLogitsBytes, $"vocab {vocab}: {batch} is not the largest");
        }
        var options = new EvaluatorOptions { ContextSize = 512 };
        Assert.Equal(512, options.EffectiveBatch(32_000)); // short contexts are unchanged: one batch per chunk
        Assert.Equal(100, (options with { BatchSize = 100 }).EffectiveBatch(262_144)); // -b given: used as given
        Assert.Equal(64, (options with { BatchSize = 100, UBatchSize = 64 }).EffectiveUBatch(262_144));
    }

    [Slow]
    [Fact]
    public void A_large_vocabulary_baseline_holds_exactly_the_engines_logits_with_the_capped_batch()
    {
        using var dir = new TempDir();
        string model = dir.File("big-vocab.gguf"), data = dir.File("data.txt");
        SyntheticModel.Write(model, new SyntheticModelOptions
        {
            VocabSize = Vocab, EmbeddingLength = 32, LayerCount = 1, HeadCount = 2, ContextLength = Context, WeightType = GgufOptimize.Gguf.GgmlType.F16, Seed = 5,
        });
        var words = SyntheticVocabulary.Build(Vocab).Tokens.Where(p => p.StartsWith(SyntheticVocabulary.SpaceMark) && p.Length > 2).ToArray();
        var random = new Random(3);
        File.WriteAllText(data, string.Join(" ", Enumerable.Range(0, Context + 200).Select(_ => words[random.Next(words.Length)].Replace(SyntheticVocabulary.SpaceMark, ""))));

        string output = dir.File("base.h5");
        LogitsJob.Run(new LogitsJobOptions { ModelPath = model, DatasetPath = data, OutputPath = output, ContextSize = Context, ToChunk = 1, Threads = 2 },
            NullProgress.Instance, default);

        using var llama = LlamaModel.Load(model);
        var plan = ChunkPlan.ForModel(llama.Tokenize(File.ReadAllText(data)), Context, llama.AddBos, llama.Bos, llama.AddEos, llama.Eos);
        using var evaluator = new LlamaEvaluator(llama, new EvaluatorOptions { ContextSize = Context, Threads = 2 });
        Assert.Equal((512, 512), evaluator.NativeBatchSizes);
        var expected = new float[Context * Vocab];
        evaluator.EvaluateChunk(plan.Chunk(0), expected);

        using var stored = BaselineLogitsReader.Open(output);
        Assert.Contains("n_batch 512, n_ubatch 512", BaselineLogitsReader.ReadHeader(output).Engine);
        Assert.Equal(Context, stored.ChunkLength(0));
        var actual = stored.ChunkLogits(0);
        Assert.Equal(expected.Length, actual.Length);
        Assert.True(actual.SequenceEqual(expected), "stored logits differ from llama.cpp's");
    }
}
