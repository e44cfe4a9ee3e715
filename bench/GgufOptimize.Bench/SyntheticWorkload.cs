using GgufOptimize.Synthetic;

namespace GgufOptimize.Bench;

/// <summary>A synthetic 32k-vocabulary model and a text for it, shared by the end-to-end benchmarks.</summary>
public static class SyntheticWorkload
{
    public static string WriteModel(string dir, int embd, int layers, int ctx, int vocab = 32000)
    {
        string model = Path.Combine(dir, $"synthetic-{vocab / 1000}k-{embd}.gguf");
        SyntheticModel.Write(model, new SyntheticModelOptions
        {
            VocabSize = vocab, EmbeddingLength = embd, LayerCount = layers, HeadCount = 4, ContextLength = ctx, Seed = 7,
        });
        return model;
    }

    /// <summary>Roughly <paramref name="approxTokens"/> tokens of words from the synthetic vocabulary.</summary>
    public static string WriteText(string dir, int approxTokens, int vocab = 32000)
    {
        var pieces = SyntheticVocabulary.Build(vocab).Tokens.Where(p => p.StartsWith(SyntheticVocabulary.SpaceMark) && p.Length > 2).ToArray();
        var random = new Random(11);
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < approxTokens + 64; i++)
        {
            sb.Append(pieces[random.Next(pieces.Length)].Replace(SyntheticVocabulary.SpaceMark, " "));
            if (i % 40 == 39) sb.Append(".\n\n");
        }
        string path = Path.Combine(dir, "data.txt");
        File.WriteAllText(path, sb.ToString());
        return path;
    }
}
