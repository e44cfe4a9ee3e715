using GgufOptimize.Engine;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Engine;

public class RealModelEngineTests
{
    [SkippableFact]
    public void Aidreams_loads_tokenizes_and_scores_text_better_than_chance()
    {
        using var model = LlamaModel.Load(SharedAssets.AidreamsModel);
        Assert.Equal(512, model.VocabSize);
        Assert.Equal(128, model.TrainContext);
        var text = File.ReadAllText(SharedAssets.AidreamsText).Split("\n\n")[0];
        var tokens = model.Tokenize(text);
        Assert.True(tokens.Length > 10);
        var chunk = new[] { model.Bos!.Value }.Concat(tokens.Take(127)).ToArray();
        using var eval = new LlamaEvaluator(model, new EvaluatorOptions { ContextSize = 128 });
        var logits = new float[chunk.Length * model.VocabSize];
        eval.EvaluateChunk(chunk, logits);
        // Mean NLL of the next token must be far below the uniform log(512) = 6.24 (README: ~1.84).
        double nll = 0;
        for (int t = 0; t < chunk.Length - 1; t++)
        {
            var row = logits.AsSpan(t * 512, 512);
            double max = double.NegativeInfinity;
            foreach (var v in row) max = Math.Max(max, v);
            double sum = 0;
            foreach (var v in row) sum += Math.Exp(v - max);
            nll += -(row[chunk[t + 1]] - max - Math.Log(sum));
        }
        nll /= chunk.Length - 1;
        Assert.InRange(nll, 0.5, 3.5);
    }
}
