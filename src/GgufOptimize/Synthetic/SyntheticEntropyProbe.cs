using GgufOptimize.Chunking;
using GgufOptimize.Engine;
using GgufOptimize.Metrics;

namespace GgufOptimize.Synthetic;

/// <summary>Quantiles (nats) of the per-position next-token entropy a model shows on text.</summary>
internal sealed record EntropyProfile(int Count, double Mean, double P10, double Median, double P90, double P99);

/// <summary>
/// Measures how peaked a model's predictions are through llama.cpp: samples text from the model itself (as a trained
/// model's own training text is "natural" to it), evaluates it in chunks of <c>ctx</c> tokens and takes the entropy of
/// every position's distribution.
/// </summary>
internal static class SyntheticEntropyProbe
{
    /// <summary>On text sampled from the model (slow: one decode per sampled token).</summary>
    public static EntropyProfile MeasureOnSampledText(string modelPath, int tokens, int ctx, ulong seed = 3)
    {
        using var model = LlamaModel.Load(modelPath);
        using var generator = new ModelTextGenerator(model, new TextGenerationOptions { Seed = seed, MaxTokens = Math.Min(256, ctx) });
        var sb = new System.Text.StringBuilder();
        while (model.Tokenize(sb.ToString()).Length < tokens)
            sb.Append(generator.Generate(4).ToDocument()).Append('\n');
        return Measure(model, sb.ToString(), tokens, ctx);
    }

    /// <summary>On words drawn from the synthetic vocabulary (fast; the contexts a model meets on unfamiliar text).</summary>
    public static EntropyProfile MeasureOnVocabularyWords(string modelPath, int tokens, int ctx, ulong seed = 3)
    {
        using var model = LlamaModel.Load(modelPath);
        return Measure(model, SyntheticVocabulary.Build(model.VocabSize).RandomWords(tokens + 64, seed), tokens, ctx);
    }

    private static EntropyProfile Measure(LlamaModel model, string text, int tokens, int ctx)
    {
        var plan = ChunkPlan.ForModel(model.Tokenize(text), ctx, model.AddBos, model.Bos, model.AddEos, model.Eos);
        int vocab = model.VocabSize;
        using var evaluator = new LlamaEvaluator(model, new EvaluatorOptions { ContextSize = ctx });
        var logits = new float[ctx * vocab];
        var entropies = new List<double>();
        for (int c = 0; c < plan.ChunkCount && entropies.Count < tokens; c++)
        {
            var chunk = plan.Chunk(c);
            evaluator.EvaluateChunk(chunk, logits.AsSpan(0, chunk.Length * vocab));
            for (int j = 0; j < chunk.Length; j++) entropies.Add(RowEntropy.Of(logits.AsSpan(j * vocab, vocab)));
        }
        entropies.Sort();
        double Q(double p) => entropies[(int)Math.Min(entropies.Count - 1, Math.Floor(p * entropies.Count))];
        return new EntropyProfile(entropies.Count, entropies.Average(), Q(0.1), Q(0.5), Q(0.9), Q(0.99));
    }
}
