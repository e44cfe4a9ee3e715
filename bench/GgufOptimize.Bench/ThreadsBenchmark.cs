using System.Diagnostics;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Kld;
using GgufOptimize.Logits;

namespace GgufOptimize.Bench;

/// <summary>
/// Whether the default thread count (-t 0, <see cref="Hardware.DefaultThreads(long)"/>) is close to the best -t:
/// `logits` and `kld --baseline-logits --target-model` wall times at -t 1, -t 2 and the default, on the models in
/// ../shared and on the synthetic 32k model. Runs are paired: each repetition runs every setting once, in an order
/// that rotates between repetitions, so a change of machine load hits all settings alike; medians are reported.
/// --sweep adds synthetic models of growing size (logits only) to place <see cref="Hardware.ParametersPerThread"/>.
/// </summary>
public sealed class ThreadsBenchmark : IBenchmark
{
    public string Name => "threads";
    public string Description => "default -t vs -t 1 / -t 2 for logits and kld [--reps 5] [--shared ../shared] [--dir /tmp] [--sweep] [--only aidreams|tiny|32k]";

    private sealed record Workload(string Name, string Model, string Data, int Context, int? Chunks);

    public int Run(string[] args)
    {
        var a = new BenchArgs(args);
        int reps = a.Int("reps", 5);
        string? only = a.Get("only");
        string dir = Path.Combine(a.Get("dir") ?? Path.GetTempPath(), $"ggufopt-bench-threads-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            NativeRuntime.Initialize();
            Console.WriteLine($"physical cores {Hardware.PhysicalCores}; {Hardware.ParametersPerThread:N0} weights per default thread; load at start {LoadAverage()}");
            var workloads = new List<Workload>();
            if ((a.Get("shared") ?? SharedFolder.Find()) is { } shared)
            {
                string text = Path.Combine(shared, "data", "aidreams-samples.txt");
                workloads.Add(new("aidreams260K-f32 (whole sample text)", Path.Combine(shared, "models", "aidreams260K-f32.gguf"), text, 128, null));
                workloads.Add(new("llama-2-tiny-random (16 chunks)", Path.Combine(shared, "models", "llama-2-tiny-random.gguf"), text, 128, 16));
            }
            else Console.WriteLine("../shared not found: only the synthetic model is measured");
            workloads.Add(new("synthetic 32k, n_embd 256, 2 layers (8 chunks)", SyntheticWorkload.WriteModel(dir, 256, 2, 512), SyntheticWorkload.WriteText(dir, 8 * 512), 512, 8));
            if (only is not null) workloads.RemoveAll(w => !w.Name.Contains(only == "tiny" ? "tiny" : only, StringComparison.Ordinal));

            Console.WriteLine("| model | weights | default -t | logits -t 1 | -t 2 | default | default / best | kld -t 1 | -t 2 | default | default / best |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var w in workloads) Measure(w, dir, reps, withKld: true);
            if (args.Contains("--sweep"))
            {
                foreach (var (vocab, embd, layers) in new[] { (512, 128, 2), (512, 256, 4), (512, 512, 4), (4096, 256, 2), (8192, 256, 4), (16000, 256, 2) })
                {
                    string model = SyntheticWorkload.WriteModel(dir, embd, layers, 512, vocab);
                    string data = SyntheticWorkload.WriteText(dir, 8 * 512, vocab);
                    Measure(new($"synthetic vocab {vocab}, n_embd {embd}, {layers} layers (8 chunks)", model, data, 512, 8), dir, reps, withKld: false);
                }
            }
            Console.WriteLine($"load at end {LoadAverage()}");
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void Measure(Workload w, string dir, int reps, bool withKld)
    {
        long weights;
        using (var llama = LlamaModel.Load(w.Model)) weights = llama.ParameterCount;
        int chosen = Hardware.DefaultThreads(weights);
        int[] settings = [1, 2, 0];
        string baseline = Path.Combine(dir, "baseline.h5");
        File.Delete(baseline);
        Logits(w, baseline, 1); // the stored baseline for kld, and a warm-up (JIT, page cache)
        var logits = settings.ToDictionary(t => t, _ => new List<double>());
        var kld = settings.ToDictionary(t => t, _ => new List<double>());
        for (int r = 0; r < reps; r++)
        {
            for (int i = 0; i < settings.Length; i++)
            {
                int t = settings[(i + r) % settings.Length];
                string output = Path.Combine(dir, "run.h5");
                logits[t].Add(Time(() => Logits(w, output, t)));
                File.Delete(output);
                if (!withKld) continue;
                string comparison = Path.Combine(dir, "run-kld.h5");
                kld[t].Add(Time(() => KldJob.Run(new KldJobOptions
                {
                    BaselineLogits = baseline, TargetModel = w.Model, OutputFile = comparison, Threads = t,
                }, NullProgress.Instance, default)));
                File.Delete(comparison);
            }
        }
        File.Delete(baseline);
        Console.WriteLine($"| {w.Name} | {weights:N0} | {chosen} | {Cells(logits)} | {(withKld ? Cells(kld) : "| | | |")}");
    }

    private static void Logits(Workload w, string output, int threads) => LogitsJob.Run(new LogitsJobOptions
    {
        ModelPath = w.Model, DatasetPath = w.Data, OutputPath = output, ContextSize = w.Context, ToChunk = w.Chunks, Threads = threads,
    }, NullProgress.Instance, default);

    /// <summary>Median seconds at -t 1, -t 2 and the default, then the default's median over the best median.</summary>
    private static string Cells(Dictionary<int, List<double>> times)
    {
        double Median(int t) { var s = times[t].Order().ToArray(); return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2; }
        double one = Median(1), two = Median(2), auto = Median(0);
        return $"{one:F2} s | {two:F2} s | {auto:F2} s | **{auto / Math.Min(one, two):F2}×**";
    }

    private static double Time(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
}
