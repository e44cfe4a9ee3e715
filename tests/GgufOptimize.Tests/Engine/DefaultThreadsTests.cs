using GgufOptimize.Engine;
using GgufOptimize.Synthetic;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Engine;

/// <summary>The default decode thread count (-t 0) follows the model's weights, capped by the cores.</summary>
public class DefaultThreadsTests
{
    private static readonly SyntheticModelOptions Synthetic32k = new() { VocabSize = 32000, EmbeddingLength = 256, LayerCount = 2, HeadCount = 4 };

    [Theory]
    [InlineData(263_744L, 2, 1)]        // aidreams260K: barrier costs dominate, one thread
    [InlineData(520_000L, 2, 1)]        // llama-2-tiny-random: n_embd 8 with a 32k vocabulary
    [InlineData(1_572_608L, 2, 1)]      // the workflow tests' synthetic model (vocab 512, n_embd 256)
    [InlineData(7_999_999L, 2, 1)]      // just short of two threads' worth
    [InlineData(8_000_000L, 2, 2)]
    [InlineData(17_696_000L, 2, 2)]     // the synthetic 32k model of the benchmarks
    [InlineData(17_696_000L, 16, 4)]    // more cores: still one per 4 M weights
    [InlineData(7_000_000_000L, 2, 2)]  // a 7B model: every core
    [InlineData(7_000_000_000L, 64, 64)]
    [InlineData(7_000_000_000L, 0, 1)]  // a machine reporting no cores still gets one thread
    [InlineData(0L, 8, 1)]
    public void The_rule_gives_one_thread_per_four_million_weights_within_the_cores(long weights, int cores, int expected)
    {
        Assert.Equal(expected, Hardware.DefaultThreads(weights, cores));
    }

    [Fact]
    public void The_synthetic_32k_model_counts_as_large_enough_for_both_cores()
    {
        Assert.Equal(17_696_000L, Synthetic32k.ParameterCount);
        Assert.Equal(2, Hardware.DefaultThreads(Synthetic32k.ParameterCount, 2));
    }

    [Fact]
    public void An_evaluator_without_threads_uses_the_rule_and_an_explicit_count_wins()
    {
        using var tmp = new TempDir();
        string path = tmp.File("s.gguf");
        SyntheticModel.Write(path, Synthetic32k with { VocabSize = 512, ContextLength = 64 });
        using var model = LlamaModel.Load(path);
        Assert.Equal((Synthetic32k with { VocabSize = 512 }).ParameterCount, model.ParameterCount);
        using (var auto = new LlamaEvaluator(model, new EvaluatorOptions { ContextSize = 64 }))
            Assert.Equal(1, auto.Threads); // 1.6 M weights: one thread on any machine
        using (var given = new LlamaEvaluator(model, new EvaluatorOptions { ContextSize = 64, Threads = 3 }))
            Assert.Equal(3, given.Threads);
    }

    [SkippableFact]
    public void The_real_tiny_model_decodes_on_one_thread_by_default()
    {
        using var model = LlamaModel.Load(SharedAssets.AidreamsModel);
        Assert.InRange(model.ParameterCount, 230_000, 270_000);
        using var evaluator = new LlamaEvaluator(model, new EvaluatorOptions { ContextSize = 128 });
        Assert.Equal(1, evaluator.Threads);
    }
}
