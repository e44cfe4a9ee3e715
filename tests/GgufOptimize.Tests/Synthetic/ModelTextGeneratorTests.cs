using GgufOptimize.Engine;
using GgufOptimize.Synthetic;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Synthetic;

public class ModelTextGeneratorTests
{
    private static string WriteModel(TempDir dir)
    {
        string path = dir.File("m.gguf");
        SyntheticModel.Write(path, new SyntheticModelOptions { VocabSize = 512, EmbeddingLength = 64, LayerCount = 2, HeadCount = 2, ContextLength = 96 });
        return path;
    }

    [Fact]
    public void Same_seed_same_text_other_seed_other_text()
    {
        using var dir = new TempDir();
        using var model = LlamaModel.Load(WriteModel(dir));
        GeneratedText Run(ulong seed)
        {
            using var g = new ModelTextGenerator(model, new TextGenerationOptions { Seed = seed, Threads = 1 });
            return g.Generate(6);
        }
        var a = Run(3);
        var b = Run(3);
        var c = Run(4);
        Assert.Equal(a.Paragraphs, b.Paragraphs);
        Assert.NotEqual(a.Paragraphs, c.Paragraphs);

        Assert.Equal(6, a.Paragraphs.Count);
        Assert.All(a.Paragraphs, p =>
        {
            Assert.False(string.IsNullOrWhiteSpace(p));
            Assert.DoesNotContain('\n', p);
            Assert.Equal(p.Trim(), p);
        });
        Assert.Equal(6, a.EndedByEos + a.CutAtLimit);
        // The synthetic grammar ends paragraphs after a sentence end, well within 95 tokens most of the time.
        Assert.True(a.EndedByEos >= 3, $"only {a.EndedByEos} of 6 samples ended by EOS");
        string doc = a.ToDocument();
        Assert.Equal(a.Paragraphs, doc.TrimEnd('\n').Split("\n\n"));
    }

    [Fact]
    public void Sampled_text_is_what_the_model_finds_likely()
    {
        using var dir = new TempDir();
        using var model = LlamaModel.Load(WriteModel(dir));
        using var g = new ModelTextGenerator(model, new TextGenerationOptions { Seed = 1, Threads = 1 });
        var text = g.Generate(10);
        Assert.True(text.SampledTokens > 10);
        // Its own samples score far better than chance (log 512 = 6.24 nats per token).
        using var eval = new LlamaEvaluator(model, new EvaluatorOptions { ContextSize = 96 });
        double nll = 0;
        int n = 0;
        foreach (var p in text.Paragraphs)
        {
            var tokens = new[] { model.Bos!.Value }.Concat(model.Tokenize(p)).Take(96).ToArray();
            var logits = new float[tokens.Length * model.VocabSize];
            eval.EvaluateChunk(tokens, logits);
            for (int t = 0; t + 1 < tokens.Length; t++)
            {
                var row = logits.AsSpan(t * model.VocabSize, model.VocabSize);
                float max = float.NegativeInfinity;
                foreach (var v in row) max = Math.Max(max, v);
                double z = 0;
                foreach (var v in row) z += Math.Exp(v - max);
                nll += Math.Log(z) - (row[tokens[t + 1]] - max);
                n++;
            }
        }
        Assert.InRange(nll / n, 0.5, 4.5);
    }

    [Fact]
    public void Greedy_sampling_repeats_itself_and_max_tokens_cuts()
    {
        using var dir = new TempDir();
        using var model = LlamaModel.Load(WriteModel(dir));
        using var greedy = new ModelTextGenerator(model, new TextGenerationOptions { Temperature = 0, MaxTokens = 5, Threads = 1 });
        var text = greedy.Generate(3);
        Assert.Single(text.Paragraphs.Distinct());
        Assert.True(text.SampledTokens <= 15);
        Assert.True(model.Tokenize(text.Paragraphs[0]).Length <= 5);
    }

    [Fact]
    public void Negative_temperature_is_bad_input()
    {
        using var dir = new TempDir();
        using var model = LlamaModel.Load(WriteModel(dir));
        var e = Assert.Throws<GgufOptimize.Common.GgufOptimizeException>(() => new ModelTextGenerator(model, new TextGenerationOptions { Temperature = -1 }));
        Assert.Contains("temperature", e.Message);
    }
}
