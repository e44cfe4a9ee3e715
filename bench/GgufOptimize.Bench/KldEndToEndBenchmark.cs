using System.Diagnostics;
using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Kld;
using GgufOptimize.Logits;
using GgufOptimize.Quantization;
using GgufOptimize.Storage;

namespace GgufOptimize.Bench;

/// <summary>
/// `kld` as users run it, on a synthetic 32000-vocab model and its Q8_0: (1) two stored float32 logits files
/// compared, against a scalar reference over the same mapped bytes and a sequential read of those bytes (the I/O
/// floor); (2) `kld --target-model` against a bare decode of the target over the same chunks.
/// </summary>
public sealed class KldEndToEndBenchmark : IBenchmark
{
    public string Name => "kld-e2e";
    public string Description => "kld on stored files vs scalar and read floor; kld --target-model vs bare decode [--chunks 16] [--ctx 512] [--embd 256]";

    public int Run(string[] args)
    {
        var a = new BenchArgs(args);
        int chunks = a.Int("chunks", 16), ctx = a.Int("ctx", 512), embd = a.Int("embd", 256);
        string dir = Path.Combine(a.Get("dir") ?? Path.GetTempPath(), $"ggufopt-bench-kld-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            NativeRuntime.Initialize();
            string model = SyntheticWorkload.WriteModel(dir, embd, 2, ctx);
            string data = SyntheticWorkload.WriteText(dir, chunks * ctx);
            string quant = ModelQuantizer.Run(new QuantizeOptions
            {
                ModelPath = model, Types = [QuantizationTypes.Parse("Q8_0")], OutputDirectory = dir,
            }, NullProgress.Instance)[0].OutputPath;
            string baseFile = Path.Combine(dir, "base.h5"), targetFile = Path.Combine(dir, "target.h5");
            LogitsJob.Run(new LogitsJobOptions { ModelPath = model, DatasetPath = data, OutputPath = baseFile, ContextSize = ctx, ToChunk = chunks }, NullProgress.Instance, default);
            LogitsJob.Run(new LogitsJobOptions { ModelPath = quant, DatasetPath = data, OutputPath = targetFile, ContextSize = ctx, ToChunk = chunks }, NullProgress.Instance, default);

            using var b = BaselineLogitsReader.Open(baseFile);
            using var t = BaselineLogitsReader.Open(targetFile);
            int n = Enumerable.Range(0, b.TotalChunks).Count(b.HasChunk);
            long tokens = Enumerable.Range(0, n).Sum(c => (long)b.ChunkLength(c));
            double bytes = 2.0 * tokens * b.VocabSize * 4;
            Console.WriteLine($"{n} chunks x {ctx} tokens, vocab {b.VocabSize}: {bytes / 1e9:F2} GB of float32 logits in two files; threads {Hardware.PhysicalCores}; load {File.ReadAllText("/proc/loadavg").Trim()}");

            double sink = 0;
            double floor = Best(3, () =>
            {
                for (int c = 0; c < n; c++) { sink += Sum(b.ChunkLogits(c)); sink += Sum(t.ChunkLogits(c)); }
            });
            double scalar = Best(1, () =>
            {
                for (int c = 0; c < n; c++)
                {
                    var p = b.ChunkLogits(c); var q = t.ChunkLogits(c); int v = b.VocabSize;
                    for (int i = 0; i < b.ChunkLength(c); i++) sink += ScalarKld.Compute(p.Slice(i * v, v), q.Slice(i * v, v));
                }
            });
            string cmp = Path.Combine(dir, "cmp.h5");
            double ours = Best(3, () =>
            {
                File.Delete(cmp);
                KldJob.Run(new KldJobOptions { BaselineLogits = baseFile, TargetLogits = targetFile, OutputFile = cmp }, NullProgress.Instance, default);
            });
            Console.WriteLine($"read floor (sum of both files, warm page cache): {bytes / floor / 1e9:F2} GB/s");
            Console.WriteLine($"scalar reference (double, Math.Exp, 1 thread):   {bytes / scalar / 1e9:F2} GB/s, {tokens / scalar:F0} tok/s");
            Console.WriteLine($"kld --baseline-logits --target-logits (whole job, kernel on all cores): {bytes / ours / 1e9:F2} GB/s, {tokens / ours:F0} tok/s; " +
                              $"{scalar / ours:F1}x the scalar reference, {floor / ours * 100:F0} % of the read floor, {bytes / ours / 1e9 / 0.25:F1}x the seed tool's numpy (0.25 GB/s)");

            using (var llama = LlamaModel.Load(quant))
            using (var evaluator = new LlamaEvaluator(llama, new EvaluatorOptions { ContextSize = ctx }))
            {
                var chunkTokens = Enumerable.Range(0, n).Select(b.ChunkTokens).ToArray();
                evaluator.DecodeOnly(chunkTokens[0]);
                double bare = Best(2, () => { foreach (var ct in chunkTokens) evaluator.DecodeOnly(ct); });
                double e2e = Best(2, () =>
                {
                    File.Delete(cmp);
                    KldJob.Run(new KldJobOptions { BaselineLogits = baseFile, TargetModel = quant, OutputFile = cmp }, NullProgress.Instance, default);
                });
                Console.WriteLine($"bare decode of the target: {tokens / bare:F0} tok/s; kld --target-model: {tokens / e2e:F0} tok/s; overhead {(e2e / bare - 1) * 100:F1} %");
            }
            GC.KeepAlive(sink);
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static double Sum(ReadOnlySpan<float> values) => System.Numerics.Tensors.TensorPrimitives.Sum(values);

    private static double Best(int reps, Action action)
    {
        double best = double.MaxValue;
        for (int r = 0; r < reps; r++)
        {
            var clock = Stopwatch.StartNew();
            action();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }
}
