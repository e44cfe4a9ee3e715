using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Gguf;
using GgufOptimize.Synthetic;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Synthetic;

public class SyntheticModelTests
{
    private const string Prose = "The old man said that they would find the water near the river, and the children began to walk home. It was a long day.";

    public static TheoryData<int, int, int, int, int, int, string> Shapes => new()
    {
        // vocab, n_embd, layers, heads, kv heads, n_ff (0 = default), weight type
        { 512, 256, 2, 4, 4, 0, "F32" },
        { 1024, 512, 2, 4, 2, 1024, "F32" },
        { 512, 256, 2, 4, 4, 0, "F16" },
        { 600, 64, 3, 4, 1, 96, "F32" },
        { 512, 128, 1, 2, 2, 256, "BF16" },
    };

    [Slow]
    [Theory]
    [MemberData(nameof(Shapes))]
    public void Loads_and_runs_in_llama_cpp_with_peaked_but_not_one_hot_predictions(int vocab, int embd, int layers, int heads, int kvHeads, int ff, string type)
    {
        using var dir = new TempDir();
        var options = new SyntheticModelOptions
        {
            VocabSize = vocab, EmbeddingLength = embd, LayerCount = layers, HeadCount = heads, HeadCountKv = kvHeads,
            FeedForwardLength = ff, ContextLength = 256, WeightType = Enum.Parse<GgmlType>(type), Seed = 7,
        };
        string path = dir.File("m.gguf");
        SyntheticModel.Write(path, options);

        using var model = LlamaModel.Load(path);
        Assert.Equal(vocab, model.VocabSize);
        Assert.Equal(embd, model.EmbeddingSize);
        Assert.Equal(layers, model.LayerCount);
        Assert.Equal(256, model.TrainContext);
        Assert.True(model.AddBos);
        Assert.False(model.AddEos);
        Assert.Equal(1, model.Bos);
        Assert.Equal(2, model.Eos);

        var tokens = new[] { model.Bos!.Value }.Concat(model.Tokenize(Prose)).ToArray();
        using var eval = new LlamaEvaluator(model, new EvaluatorOptions { ContextSize = 256 });
        var logits = new float[tokens.Length * vocab];
        eval.EvaluateChunk(tokens, logits);
        Assert.All(logits, v => Assert.True(float.IsFinite(v)));

        var stats = Enumerable.Range(0, tokens.Length).Select(t => Distribution(logits.AsSpan(t * vocab, vocab))).ToList();
        double meanEntropy = stats.Average(s => s.Entropy);
        // Not flat (uniform would be log V) and not one-hot (entropy 0, top probability 1).
        Assert.InRange(meanEntropy, 0.5, Math.Log(vocab) - 1.5);
        Assert.All(stats, s => Assert.InRange(s.Top, 0.0, 0.995));
        Assert.All(stats, s => Assert.True(s.Spread > 1.0, $"logit standard deviation {s.Spread:F2} nats"));
        // The prediction depends on the input token: the most likely next token varies along the text.
        Assert.True(stats.Select(s => s.ArgMax).Distinct().Count() >= tokens.Length / 4);
    }

    [Fact]
    public void Same_seed_gives_identical_bytes_and_another_seed_does_not()
    {
        using var dir = new TempDir();
        var options = new SyntheticModelOptions { VocabSize = 512, EmbeddingLength = 64, LayerCount = 1, HeadCount = 2, Seed = 42 };
        SyntheticModel.Write(dir.File("a.gguf"), options);
        SyntheticModel.Write(dir.File("b.gguf"), options);
        SyntheticModel.Write(dir.File("c.gguf"), options with { Seed = 43 });
        var a = File.ReadAllBytes(dir.File("a.gguf"));
        Assert.Equal(a, File.ReadAllBytes(dir.File("b.gguf")));
        var c = File.ReadAllBytes(dir.File("c.gguf"));
        Assert.Equal(a.Length, c.Length);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Header_matches_the_options_and_llama_cpp_naming()
    {
        using var dir = new TempDir();
        var options = new SyntheticModelOptions { VocabSize = 700, EmbeddingLength = 128, LayerCount = 3, HeadCount = 4, HeadCountKv = 2, FeedForwardLength = 320, ContextLength = 333, WeightType = GgmlType.F16, Name = "tiny" };
        SyntheticModel.Write(dir.File("m.gguf"), options);
        var file = GgufFile.Read(dir.File("m.gguf"));
        var m = file.Metadata;
        Assert.Equal("llama", file.Architecture);
        Assert.Equal("tiny", m.GetString(GgufKeys.Name));
        Assert.Equal(LlamaFileTypes.MostlyF16, m.GetInteger(GgufKeys.FileType));
        Assert.Equal(333, m.GetInteger("llama.context_length"));
        Assert.Equal(32, m.GetInteger("llama.rope.dimension_count"));
        Assert.Equal(2, m.GetInteger("llama.attention.head_count_kv"));
        Assert.Equal(1e-5, m.GetNumber("llama.attention.layer_norm_rms_epsilon")!.Value, 1e-10);
        Assert.Equal("llama", m.GetString(GgufKeys.TokenizerModel));
        Assert.Equal(700, m[GgufKeys.Tokens].Count);
        Assert.Equal(3 + 3 * 9, file.Tensors.Count);
        Assert.Equal(options.ParameterCount, file.ParameterCount);
        Assert.Equal(new long[] { 128, 700 }, file.Tensor("token_embd.weight").Dimensions);
        Assert.Equal(new long[] { 128, 64 }, file.Tensor("blk.2.attn_k.weight").Dimensions);
        Assert.Equal(new long[] { 320, 128 }, file.Tensor("blk.0.ffn_down.weight").Dimensions);
        Assert.Equal(GgmlType.F16, file.Tensor("blk.0.attn_q.weight").Type);
        Assert.Equal(GgmlType.F32, file.Tensor("blk.0.attn_norm.weight").Type);
    }

    [Fact]
    public void Weights_have_fan_in_scale_and_a_few_outlier_input_channels()
    {
        using var dir = new TempDir();
        var options = new SyntheticModelOptions { VocabSize = 1024, EmbeddingLength = 256, LayerCount = 1, HeadCount = 4 };
        SyntheticModel.Write(dir.File("m.gguf"), options);
        var file = GgufFile.Read(dir.File("m.gguf"));

        var q = file.ReadTensorFloats(file.Tensor("blk.0.attn_q.weight"));
        double std = Math.Sqrt(q.Average(v => (double)v * v));
        Assert.InRange(std, 0.9 / 16, 1.1 / 16); // 1/sqrt(256)

        // Per-channel RMS of the embeddings (what the first layer's matmuls see, up to RMSNorm).
        var e = file.ReadTensorFloats(file.Tensor("token_embd.weight"));
        var channelRms = Enumerable.Range(0, 256).Select(i => Math.Sqrt(Enumerable.Range(0, 1024).Average(t => (double)e[t * 256 + i] * e[t * 256 + i]))).ToArray();
        var sorted = channelRms.OrderBy(v => v).ToArray();
        double median = sorted[128];
        var large = SyntheticModel.LargeChannels(options);
        Assert.Equal(2, large.Outliers.Count); // max(2, 256/128)
        // Exactly the documented channels stand out, the sink (a large constant) most.
        Assert.Equal(large.All.Order(), Enumerable.Range(0, 256).Where(i => channelRms[i] > 4 * median));
        Assert.Equal(large.Sink, Array.IndexOf(channelRms, sorted[^1]));
        Assert.True(sorted[^1] > 8 * median, $"largest channel RMS {sorted[^1]:F2} vs median {median:F2}");
    }

    [Fact]
    public void Invalid_options_are_bad_input()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<GgufOptimizeException>(() => SyntheticModel.Write(dir.File("x.gguf"), new SyntheticModelOptions { EmbeddingLength = 100, HeadCount = 3 }));
        Assert.Equal(FailureKind.BadInput, e.Kind);
        Assert.Throws<GgufOptimizeException>(() => SyntheticModel.Write(dir.File("x.gguf"), new SyntheticModelOptions { VocabSize = 100 }));
        Assert.Throws<GgufOptimizeException>(() => SyntheticModel.Write(dir.File("x.gguf"), new SyntheticModelOptions { WeightType = GgmlType.Q4_0 }));
        Assert.False(File.Exists(dir.File("x.gguf")));
    }

    private static (double Entropy, double Top, double Spread, int ArgMax) Distribution(ReadOnlySpan<float> logits)
    {
        double max = double.NegativeInfinity, mean = 0;
        int arg = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            if (logits[i] > max) { max = logits[i]; arg = i; }
            mean += logits[i];
        }
        mean /= logits.Length;
        double z = 0, variance = 0;
        foreach (var v in logits) { z += Math.Exp(v - max); variance += (v - mean) * (v - mean); }
        double entropy = 0;
        foreach (var v in logits)
        {
            double p = Math.Exp(v - max) / z;
            if (p > 0) entropy -= p * Math.Log(p);
        }
        return (entropy, 1 / z, Math.Sqrt(variance / logits.Length), arg);
    }
}
