using System.Diagnostics;
using System.Globalization;
using GgufOptimize.Engine;
using GgufOptimize.Imatrix;
using GgufOptimize.Synthetic;

namespace GgufOptimize.Bench;

/// <summary>
/// Capture overhead of <c>imatrix</c>: tokens/s of an evaluation that collects the importance matrix against a bare
/// decode of the same tokens (all logits requested in both: imatrix needs every row of the last layer), on synthetic
/// 32k-vocab models of 512 and 1024 dimensions. Runs are interleaved so other load hits every variant alike.
/// </summary>
public sealed class ImatrixBenchmark : IBenchmark
{
    public string Name => "imatrix";
    public string Description => "imatrix capture vs bare decode (synthetic 32k vocab) [--dims 512,1024] [--layers 4] [--ctx 512] [--chunks 8] [--threads 0] [--repeat 5]";

    public int Run(string[] args)
    {
        var a = new BenchArgs(args);
        var dims = (a.Get("dims") ?? "512,1024").Split(',').Select(d => int.Parse(d, CultureInfo.InvariantCulture)).ToArray();
        int layers = a.Int("layers", 4), vocab = a.Int("vocab", 32000), ctx = a.Int("ctx", 512);
        int chunks = a.Int("chunks", 8), threads = a.Int("threads", 0), repeat = a.Int("repeat", 5);
        string dir = Directory.CreateTempSubdirectory("ggufopt-imatrix-bench-").FullName;
        try
        {
            Console.WriteLine($"{chunks} chunks x {ctx} tokens per run, threads {(threads > 0 ? threads : Hardware.PhysicalCores)}, {repeat} interleaved runs per variant (best | median)");
            Console.WriteLine("| model | bare decode tok/s | imatrix tok/s | overhead | imatrix, every matmul split (llama-imatrix's way) tok/s | overhead | splits per run (answered from a shared input) |");
            Console.WriteLine("|---|---|---|---|---|---|---|");
            foreach (int dim in dims)
            {
                string path = Path.Combine(dir, $"synthetic-{dim}.gguf");
                var options = new SyntheticModelOptions { EmbeddingLength = dim, LayerCount = layers, VocabSize = vocab, HeadCount = dim / 64, ContextLength = ctx, WeightType = Gguf.GgmlType.F16, Seed = 3 };
                SyntheticModel.Write(path, options);
                using var model = LlamaModel.Load(path);
                var random = new Random(42);
                var data = Enumerable.Range(0, chunks)
                    .Select(_ => Enumerable.Range(0, ctx).Select(i => i == 0 ? model.Bos ?? 1 : random.Next(3, vocab)).ToArray()).ToArray();
                var evalOptions = new EvaluatorOptions { ContextSize = ctx, Threads = threads };

                var bare = new List<double>();
                var shared = new List<double>();
                var split = new List<double>();
                long captured = 0, reused = 0;
                using var plain = new LlamaEvaluator(model, evalOptions);
                using var withReuse = new ActivationCapture(new ImportanceMatrix(), includeOutput: false);
                using var reuseEval = withReuse.CreateEvaluator(model, evalOptions);
                using var noReuse = new ActivationCapture(new ImportanceMatrix(), includeOutput: false) { ReuseSharedInputs = false };
                using var noReuseEval = noReuse.CreateEvaluator(model, evalOptions);
                Time(plain, data, null);
                Time(reuseEval, data, withReuse);
                Time(noReuseEval, data, noReuse);
                for (int r = 0; r < repeat; r++)
                {
                    bare.Add(Time(plain, data, null));
                    long c0 = withReuse.Captured, r0 = withReuse.Reused;
                    shared.Add(Time(reuseEval, data, withReuse));
                    captured = withReuse.Captured - c0;
                    reused = withReuse.Reused - r0;
                    split.Add(Time(noReuseEval, data, noReuse));
                }
                double tokens = (double)chunks * ctx;
                string Rate(List<double> t) => string.Create(CultureInfo.InvariantCulture, $"{tokens / t.Min():F0} \\| {tokens / Median(t):F0}");
                string Overhead(List<double> t) => string.Create(CultureInfo.InvariantCulture, $"{(t.Min() / bare.Min() - 1) * 100:F1}% \\| {(Median(t) / Median(bare) - 1) * 100:F1}%");
                string name = string.Create(CultureInfo.InvariantCulture, $"d={dim}, {layers} layers, vocab {vocab}, F16 ({options.ParameterCount / 1e6:F0}M params)");
                Console.WriteLine($"| {name} | {Rate(bare)} | {Rate(shared)} | {Overhead(shared)} | {Rate(split)} | {Overhead(split)} | {captured} ({reused}) |");
            }
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static double Time(LlamaEvaluator eval, int[][] data, ActivationCapture? capture)
    {
        long start = Stopwatch.GetTimestamp();
        foreach (var chunk in data)
        {
            eval.DecodeOnly(chunk, allLogits: true);
            if (capture?.Failure is { } failure) throw new InvalidOperationException(failure);
        }
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        return sorted[sorted.Count / 2];
    }
}
