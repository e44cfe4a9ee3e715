using GgufOptimize.Common;
using GgufOptimize.Chunking;
using GgufOptimize.Engine;
using GgufOptimize.Metrics;
using GgufOptimize.Storage.Formats.Compact;
using GgufOptimize.Storage.Formats.LlamaCpp;

namespace GgufOptimize.Bench;

/// <summary>
/// KLD of each storage encoding against the exact float32 computation, on the same tokens: a baseline model and a
/// target model are run over the same chunks, and every scored position is compared exactly (LogitComparer on float32
/// rows), through float16 rows, through llama.cpp's uint16 rows (all positions, its −16 floor), and through the compact
/// encoding at several ε. Prints relative errors of the statistics the method uses and bytes per stored token.
/// </summary>
internal static class FormatsErrorStudy
{
    public static readonly double[] TailMasses = [1e-2, 1e-3, 1e-4, 1e-5, 1e-6];

    public sealed record Row(string Method, double BytesPerToken, KldStatistics Stats);

    public static IReadOnlyList<Row> Run(string title, string baselineModel, string targetModel, string text, int ctx, int maxChunks)
    {
        using var baseModel = LlamaModel.Load(baselineModel);
        using var target = LlamaModel.Load(targetModel);
        int vocab = baseModel.VocabSize;
        var plan = ChunkPlan.ForModel(baseModel.Tokenize(text), ctx, baseModel.AddBos, baseModel.Bos, baseModel.AddEos, baseModel.Eos);
        int chunks = Math.Min(maxChunks, plan.ChunkCount);
        using var baseEval = new LlamaEvaluator(baseModel, new EvaluatorOptions { ContextSize = ctx });
        using var targetEval = new LlamaEvaluator(target, new EvaluatorOptions { ContextSize = ctx });

        int methods = 3 + TailMasses.Length;
        var results = Enumerable.Range(0, methods).Select(_ => new List<ChunkResult>()).ToArray();
        var encoders = TailMasses.Select(e => new CompactRowEncoder(e)).ToArray();
        var encoded = TailMasses.Select(_ => new CompactChunk()).ToArray();
        var entries = new long[TailMasses.Length];
        long scored = 0;
        var quantized = new ushort[new LlamaCppKldLayout(ctx, vocab, 1).RowUInt16s];
        var half = new Half[vocab];
        var widened = new float[vocab];
        var scratch = new float[vocab];
        var p = new float[ctx * vocab];
        var q = new float[ctx * vocab];
        for (int c = 0; c < chunks; c++)
        {
            var tokens = plan.Chunk(c);
            int n = tokens.Length;
            baseEval.EvaluateChunk(tokens, p.AsSpan(0, n * vocab));
            targetEval.EvaluateChunk(tokens, q.AsSpan(0, n * vocab));
            var builders = Enumerable.Range(0, methods).Select(_ => new ChunkResultBuilder(c, n - 1)).ToArray();
            for (int j = 0; j < n - 1; j++)
            {
                var pr = p.AsSpan(j * vocab, vocab);
                var qr = q.AsSpan(j * vocab, vocab);
                int next = tokens[j + 1];
                builders[0].Add(LogitComparer.Compare(pr, qr, next));
                for (int i = 0; i < vocab; i++) half[i] = (Half)pr[i];
                HalfConversion.ToSingle(half, widened);
                builders[1].Add(LogitComparer.Compare(widened, qr, next));
                LlamaCppRowQuantizer.Quantize(pr, quantized);
                var head = System.Runtime.InteropServices.MemoryMarshal.Cast<ushort, float>(quantized.AsSpan(0, 4));
                builders[2].Add(QuantizedLogProbComparer.Compare(head[0], head[1], quantized.AsSpan(4, vocab), qr, next));
                for (int e = 0; e < TailMasses.Length; e++)
                {
                    var chunk = encoded[e];
                    chunk.Clear();
                    encoders[e].Encode(pr, next, chunk);
                    entries[e] += chunk.Entries;
                    builders[3 + e].Add(TopTailComparer.Compare(chunk.Ids, chunk.Logits, chunk.LogNorm[0], chunk.TailMass[0], chunk.NextLogit[0], qr, next, scratch));
                }
                scored++;
            }
            for (int m = 0; m < methods; m++) results[m].Add(builders[m].Build());
        }

        var rows = new List<Row>
        {
            new("float32 (exact)", 4.0 * vocab, KldStatistics.Compute(results[0])),
            new("float16", 2.0 * vocab, KldStatistics.Compute(results[1])),
            new("llama.cpp uint16", 2.0 * quantized.Length, KldStatistics.Compute(results[2])),
        };
        for (int e = 0; e < TailMasses.Length; e++)
            rows.Add(new($"compact ε={TailMasses[e]:0e0}", 20 + 8.0 * entries[e] / scored, KldStatistics.Compute(results[3 + e])));

        Console.WriteLine();
        Console.WriteLine($"## {title}: vocab {vocab}, {chunks} chunks x {ctx} ctx, {scored} scored tokens");
        var exact = rows[0].Stats;
        Console.WriteLine($"exact: mean {exact.Average:G4}, median {exact.Median:G4}, p90 {exact.KLD_90:G4}, p95 {exact.KLD_95:G4}, p99 {exact.KLD_99:G4}, Score {exact.Score:G4}");
        Console.WriteLine("| encoding | bytes/token | mean | median | p90 | p95 | p99 | Score | max per-token abs err |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var row in rows)
        {
            double maxAbs = MaxAbsDifference(results[0], results[rows.IndexOf(row)]);
            var s = row.Stats;
            Console.WriteLine($"| {row.Method} | {row.BytesPerToken:F0} | {Rel(s.Average, exact.Average)} | {Rel(s.Median, exact.Median)} | {Rel(s.KLD_90, exact.KLD_90)} | {Rel(s.KLD_95, exact.KLD_95)} | {Rel(s.KLD_99, exact.KLD_99)} | {Rel(s.Score, exact.Score)} | {maxAbs:G3} |");
        }
        return rows;
    }

    private static string Rel(double value, double exact) => exact == 0 ? $"{value:G3}" : $"{(value - exact) / exact * 100:+0.0000;-0.0000} %";

    private static double MaxAbsDifference(List<ChunkResult> a, List<ChunkResult> b)
    {
        double max = 0;
        for (int c = 0; c < a.Count; c++)
            for (int i = 0; i < a[c].Count; i++) max = Math.Max(max, Math.Abs(a[c].Kld[i] - b[c].Kld[i]));
        return max;
    }
}
