using GgufOptimize.Chunking;
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
        var plan = ChunkPlan.ForModel(tokens, context, model.AddBos, model.Bos, model.AddEos, model.Eos);
        int chunks = Math.Min(maxChunks, plan.ChunkCount);
        using var eval = new LlamaEvaluator(model, new EvaluatorOptions { ContextSize = context, Threads = 1 });
        var result = new List<float[]>();
        for (int c = 0; c < chunks; c++)
        {
            var chunk = plan.Chunk(c);
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
            float[] p = reference[c], q = candidate[c];
            for (int at = 0; at < p.Length; at += vocab)
            {
                double lseP = LogSumExp(p, at, vocab), lseQ = LogSumExp(q, at, vocab), kld = 0;
                for (int i = at; i < at + vocab; i++)
                {
                    double lp = p[i] - lseP;
                    kld += Math.Exp(lp) * (lp - (q[i] - lseQ));
                }
                total += kld;
                positions++;
            }
        }
        return total / positions;
    }

    private static double LogSumExp(float[] row, int at, int n)
    {
        double max = double.NegativeInfinity;
        for (int i = at; i < at + n; i++) max = Math.Max(max, row[i]);
        double sum = 0;
        for (int i = at; i < at + n; i++) sum += Math.Exp(row[i] - max);
        return Math.Log(sum) + max;
    }

    /// <summary>Mean negative log-likelihood of the next token over every chunk of <paramref name="text"/>.</summary>
    public static double MeanNll(string modelPath, string text, int context = 128, int maxChunks = 8)
    {
        using var model = LlamaModel.Load(modelPath);
        var tokens = model.Tokenize(text);
        var plan = ChunkPlan.ForModel(tokens, context, model.AddBos, model.Bos, model.AddEos, model.Eos);
        int chunks = Math.Min(maxChunks, plan.ChunkCount);
        using var eval = new LlamaEvaluator(model, new EvaluatorOptions { ContextSize = context, Threads = 1 });
        double nll = 0;
        long n = 0;
        for (int c = 0; c < chunks; c++)
        {
            var chunk = plan.Chunk(c);
            var logits = new float[chunk.Length * model.VocabSize];
            eval.EvaluateChunk(chunk, logits);
            for (int t = 0; t + 1 < chunk.Length; t++)
            {
                nll -= logits[t * model.VocabSize + chunk[t + 1]] - LogSumExp(logits, t * model.VocabSize, model.VocabSize);
                n++;
            }
        }
        return nll / n;
    }

}
