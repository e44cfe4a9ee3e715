using GgufOptimize.Datasets;
using GgufOptimize.Engine;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Quantization;

/// <summary>The real model's sample text split into a calibration half and a disjoint evaluation half, and ways to score a model on text.</summary>
internal static class AidreamsText
{
    private static string[] Samples() => File.ReadAllText(SharedAssets.AidreamsText).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The first <paramref name="samples"/> samples (the calibration side).</summary>
    public static string Calibration(int samples = 182) => string.Join("\n\n", Samples().Take(samples));

    /// <summary>Samples from 182 on: never part of a calibration text.</summary>
    public static string Evaluation(int samples = 182) => string.Join("\n\n", Samples().Skip(182).Take(samples));

    public static string WriteCalibration(TempDir dir, int samples = 182)
    {
        string path = dir.File($"calibration-{samples}.txt");
        File.WriteAllText(path, Calibration(samples));
        return path;
    }

    /// <summary>Logits of every position of every chunk of <paramref name="text"/> (chunks of <paramref name="context"/> tokens).</summary>
    public static List<float[]> Logits(string modelPath, string text, int context = 128, int maxChunks = int.MaxValue)
    {
        using var model = LlamaModel.Load(modelPath);
        var tokens = model.Tokenize(text);
        int chunks = Math.Min(maxChunks, ChunkPlanner.ChunkCount(tokens.Length, context, model.AddBos, model.AddEos));
        using var eval = new LlamaEvaluator(model, new EvaluatorOptions { ContextSize = context, Threads = 2 });
        var result = new List<float[]>();
        for (int c = 0; c < chunks; c++)
        {
            var chunk = ChunkPlanner.Chunk(tokens, c, context, model.AddBos ? model.Bos : null, model.AddEos ? model.Eos : null);
            var logits = new float[chunk.Length * model.VocabSize];
            eval.EvaluateChunk(chunk, logits);
            result.Add(logits);
        }
        return result;
    }

    /// <summary>Mean over all positions of KL(P_reference ‖ P_candidate), in double precision.</summary>
    public static double MeanKld(List<float[]> reference, List<float[]> candidate, int vocab)
    {
        double total = 0;
        long positions = 0;
        for (int c = 0; c < reference.Count; c++)
        {
            for (int at = 0; at < reference[c].Length; at += vocab)
            {
                var p = LogSoftmax(reference[c].AsSpan(at, vocab));
                var q = LogSoftmax(candidate[c].AsSpan(at, vocab));
                double kld = 0;
                for (int i = 0; i < vocab; i++) kld += Math.Exp(p[i]) * (p[i] - q[i]);
                total += kld;
                positions++;
            }
        }
        return total / positions;
    }

    /// <summary>Mean negative log-likelihood of the next token over every chunk of <paramref name="text"/>.</summary>
    public static double MeanNll(string modelPath, string text, int context = 128, int maxChunks = 8)
    {
        using var model = LlamaModel.Load(modelPath);
        var tokens = model.Tokenize(text);
        int chunks = Math.Min(maxChunks, ChunkPlanner.ChunkCount(tokens.Length, context, model.AddBos, model.AddEos));
        using var eval = new LlamaEvaluator(model, new EvaluatorOptions { ContextSize = context, Threads = 2 });
        double nll = 0;
        long n = 0;
        for (int c = 0; c < chunks; c++)
        {
            var chunk = ChunkPlanner.Chunk(tokens, c, context, model.AddBos ? model.Bos : null, model.AddEos ? model.Eos : null);
            var logits = new float[chunk.Length * model.VocabSize];
            eval.EvaluateChunk(chunk, logits);
            for (int t = 0; t + 1 < chunk.Length; t++)
            {
                var lp = LogSoftmax(logits.AsSpan(t * model.VocabSize, model.VocabSize));
                nll -= lp[chunk[t + 1]];
                n++;
            }
        }
        return nll / n;
    }

    private static double[] LogSoftmax(ReadOnlySpan<float> logits)
    {
        double max = double.NegativeInfinity;
        foreach (var v in logits) max = Math.Max(max, v);
        double sum = 0;
        foreach (var v in logits) sum += Math.Exp(v - max);
        double log = Math.Log(sum) + max;
        var result = new double[logits.Length];
        for (int i = 0; i < logits.Length; i++) result[i] = logits[i] - log;
        return result;
    }
}
