using System.Diagnostics;
using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Logits;

namespace GgufOptimize.Bench;

/// <summary>
/// What storing baseline logits costs: `logits` (float32 and float16) against a bare decode of the same chunks with
/// the same engine settings and all logits requested, on a synthetic 32000-vocab model, plus dd as the disk anchor.
/// </summary>
public sealed class LogitsBenchmark : IBenchmark
{
    public string Name => "logits";
    public string Description => "logits job vs bare decode (synthetic model) and vs dd, with peak RSS [--chunks 16] [--ctx 512] [--embd 256] [--layers 2] [--vocab 32000] [--dir /tmp]";

    public int Run(string[] args)
    {
        var a = new BenchArgs(args);
        int chunks = a.Int("chunks", 16), ctx = a.Int("ctx", 512), embd = a.Int("embd", 256), layers = a.Int("layers", 2), vocab = a.Int("vocab", 32000);
        string dir = Path.Combine(a.Get("dir") ?? Path.GetTempPath(), $"ggufopt-bench-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            NativeRuntime.Initialize();
            string model = SyntheticWorkload.WriteModel(dir, embd, layers, ctx, vocab);
            string data = SyntheticWorkload.WriteText(dir, chunks * ctx, vocab);
            string text = File.ReadAllText(data);

            using var llama = LlamaModel.Load(model);
            var plan = ChunkPlan.ForModel(llama.Tokenize(text), ctx, llama.AddBos, llama.Bos, llama.AddEos, llama.Eos);
            int n = Math.Min(chunks, plan.ChunkCount);
            long tokens = Enumerable.Range(0, n).Sum(c => (long)plan.ChunkLength(c));
            Console.WriteLine($"model: synthetic llama, vocab {vocab}, {new FileInfo(model).Length / 1e6:F0} MB, n_embd {embd}, {layers} layers; {n} chunks x {ctx} tokens = {tokens} tokens; threads {Hardware.PhysicalCores}");

            using var evaluator = new LlamaEvaluator(llama, new EvaluatorOptions { ContextSize = ctx });
            evaluator.DecodeOnly(plan.Chunk(0));
            var bare = Time(() => { for (int c = 0; c < n; c++) evaluator.DecodeOnly(plan.Chunk(c)); });
            Console.WriteLine($"bare decode (all logits requested, none copied): {tokens / bare:F0} tok/s ({bare:F2} s); peak RSS so far {PeakRssMB():F0} MB");

            // Fixed costs (model load, hashing, tokenizing, file creation) measured on a one-chunk run.
            double fixedCost = Time(() => LogitsJob.Run(new LogitsJobOptions
            {
                ModelPath = model, DatasetPath = data, OutputPath = Path.Combine(dir, "one.h5"), ContextSize = ctx, ToChunk = 1,
            }, NullProgress.Instance, default)) - bare / n;
            Console.WriteLine($"fixed cost of a logits run (one-chunk run minus one chunk's bare decode): {fixedCost:F2} s");

            foreach (int precision in new[] { 32, 16 })
            {
                string output = Path.Combine(dir, $"base-f{precision}.h5");
                double seconds = Time(() => LogitsJob.Run(new LogitsJobOptions
                {
                    ModelPath = model, DatasetPath = data, OutputPath = output, ContextSize = ctx, Precision = precision, ToChunk = n,
                }, NullProgress.Instance, default));
                long bytes = (long)n * ctx * vocab * (precision / 8);
                Console.WriteLine($"logits --precision {precision}: {tokens / seconds:F0} tok/s ({seconds:F2} s), overhead vs bare decode {(seconds / bare - 1) * 100:F1} % ({((seconds - fixedCost) / bare - 1) * 100:F1} % without the fixed cost), " +
                                  $"logits written {bytes / 1e6:F0} MB = {bytes / 1e6 / seconds:F0} MB/s over the whole run; peak RSS of the process so far {PeakRssMB():F0} MB");
                File.Delete(output);
            }
            double dd = DiskAnchor.DdWriteMBps(dir, 1024);
            Console.WriteLine($"dd (1 GiB, conv=fdatasync) on the same disk: {dd:F0} MB/s");
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The process's peak resident set (VmHWM), in MB: an upper bound for every phase run so far.</summary>
    private static double PeakRssMB()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
        return double.NaN;
    }

    private static double Time(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }
}
