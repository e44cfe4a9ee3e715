using System.Diagnostics;
using System.Globalization;
using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Imatrix;
using GgufOptimize.Kld;
using GgufOptimize.Logits;

namespace GgufOptimize.Bench;

/// <summary>
/// What storing (and scoring) costs over a bare decode with the same engine: `logits` float32 and float16, `kld
/// --target-model` (kld: baseline model + target model, both decoded; kld-stored: a stored float32 baseline), `imatrix`, on a synthetic llama model (any vocabulary: 32000 by default, 128256 / 262144 for the
/// large-vocabulary goal). Every phase runs in its own child process, so its peak RSS (VmHWM) is its own, and the
/// phases are repeated in alternation so other load on the machine hits each alike; the table reports medians of wall
/// time and CPU time, and the ratio of each phase to the bare decode of the same round.
/// </summary>
public sealed class LogitsBenchmark : IBenchmark
{
    public string Name => "logits";
    public string Description => "logits/kld/imatrix vs bare decode, one child process per phase, peak RSS each [--chunks 16] [--ctx 512] [--embd 256] [--layers 2] " +
                                 "[--vocab 32000] [--batch 0] [--ubatch 0] [--rounds 1] [--phases bare,f32,f16,one,kld,kld-stored,imatrix,startup,llamacpp,barehalf,cold,coldhalf] [--dir /tmp] [--keep]";

    private const string ChildFlag = "--child-phase";

    public int Run(string[] args)
    {
        var a = new BenchArgs(args);
        if (a.Get("child-phase") is { } phase) return RunChild(phase, a);

        int chunks = a.Int("chunks", 16), ctx = a.Int("ctx", 512), embd = a.Int("embd", 256), layers = a.Int("layers", 2), vocab = a.Int("vocab", 32000);
        int rounds = a.Int("rounds", 1);
        var phases = (a.Get("phases") ?? "bare,f32,f16,one,kld,imatrix,startup").Split(',', StringSplitOptions.RemoveEmptyEntries);
        string dir = Path.Combine(a.Get("dir") ?? Path.GetTempPath(), $"ggufopt-bench-{vocab}-{ctx}");
        bool keep = args.Contains("--keep");
        Directory.CreateDirectory(dir);
        try
        {
            string model = Path.Combine(dir, $"synthetic-{vocab / 1000}k-{embd}.gguf"), data = Path.Combine(dir, "data.txt");
            if (!File.Exists(model) || !File.Exists(data))
            {
                model = SyntheticWorkload.WriteModel(dir, embd, layers, ctx, vocab);
                data = SyntheticWorkload.WriteText(dir, chunks * ctx, vocab);
            }
            long modelBytes = new FileInfo(model).Length;
            Console.WriteLine($"model: synthetic llama, vocab {vocab}, {modelBytes / 1e6:F0} MB, n_embd {embd}, {layers} layers; {chunks} chunks x {ctx} tokens; " +
                              $"-b {Show(a.Int("batch", 0))} -ub {Show(a.Int("ubatch", 0))}; threads {Hardware.PhysicalCores}; {rounds} round(s), phases alternate");
            if (phases.Contains("kld-stored") && !File.Exists(StoredBaseline(dir)))
                Console.WriteLine($"  stored float32 baseline for kld-stored (untimed, own process): {Child("make-baseline", model, data, dir, args)}");
            var results = phases.ToDictionary(p => p, _ => new List<ChildResult>());
            var loads = new List<string>();
            for (int r = 0; r < rounds; r++)
                foreach (string p in phases)
                {
                    loads.Add(File.ReadAllText("/proc/loadavg").Trim());
                    var result = Child(p, model, data, dir, args);
                    results[p].Add(result);
                    Console.WriteLine($"  round {r + 1} {p}: {result}");
                }

            Console.WriteLine($"load average during the runs: {string.Join(" | ", loads.Select(l => l.Split(' ')[0]))}");
            Console.WriteLine();
            Console.WriteLine("| phase | tok/s | wall | CPU | wall vs bare | CPU vs bare | CPU vs cold | peak RSS | steps (s) |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---|");
            var bare = results.GetValueOrDefault("bare");
            foreach (string p in phases)
            {
                var list = results[p];
                double wall = Medians.Of(list.Select(x => x.Seconds)), cpu = Medians.Of(list.Select(x => x.CpuSeconds));
                string vsWall = "", vsCpu = "";
                if (bare is { Count: > 0 } && p != "bare" && p != "one" && p != "startup")
                {
                    // Paired per round: this phase over the bare decode run just before it.
                    vsWall = $"{(Medians.Of(list.Zip(bare, (x, b) => x.Seconds / b.Seconds)) - 1) * 100:+0.0;-0.0} %";
                    vsCpu = $"{(Medians.Of(list.Zip(bare, (x, b) => x.CpuSeconds / b.CpuSeconds)) - 1) * 100:+0.0;-0.0} %";
                }
                // Storing over a bare decode that also pays load, tokenizing and the fresh context (cold: every row's
                // logits; coldhalf: the second half's, which is all a .kld keeps), paired per round.
                string vsCold = "";
                if (results.GetValueOrDefault(ColdOf(p)) is { Count: > 0 } cold && p is "f32" or "f16" or "llamacpp" or "kld-stored")
                    vsCold = $"{(Medians.Of(list.Zip(cold, (x, b) => x.CpuSeconds / b.CpuSeconds)) - 1) * 100:+0.0;-0.0} %";
                long tokens = list[0].Tokens;
                string rate = tokens > 0 ? $"{tokens / wall:F0}" : "";
                Console.WriteLine($"| {p} | {rate} | {wall:F2} s | {cpu:F2} s | {vsWall} | {vsCpu} | {vsCold} | {Medians.Of(list.Select(x => x.PeakMB)):F0} MB | {list[^1].Steps} |");
            }
            // The same ratios with their spread: per round, over the cold decode of the same round (wall and CPU).
            foreach (string p in phases.Where(p => p is "f32" or "f16" or "llamacpp" or "kld-stored"))
                if (results.GetValueOrDefault(ColdOf(p)) is { Count: > 0 } cold)
                    Console.WriteLine($"{p} over {ColdOf(p)}, per round: wall {PairedRatio.Describe(results[p].Select(x => x.Seconds), cold.Select(x => x.Seconds))}; " +
                                      $"CPU {PairedRatio.Describe(results[p].Select(x => x.CpuSeconds), cold.Select(x => x.CpuSeconds))}");
            int ub = a.Int("ubatch", 0) > 0 ? a.Int("ubatch", 0) : a.Int("batch", 0) > 0 ? a.Int("batch", 0) : ctx;
            Console.WriteLine($"goal (issue #12): model + 4 x ubatch x n_vocab x 4 B + 512 MB = {(modelBytes + 4.0 * Math.Min(ub, 512) * vocab * 4 + (512 << 20)) / 1e6:F0} MB (with ubatch 512)");
            if (phases.Contains("f32")) Console.WriteLine($"dd (1 GiB, conv=fdatasync) on the same disk: {DiskAnchor.DdWriteMBps(dir, 1024):F0} MB/s");
            return 0;
        }
        finally
        {
            if (!keep) Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The cold decode a phase is compared with: a .kld keeps the second half's rows, so its reference requests only those.</summary>
    private static string ColdOf(string phase) => phase == "llamacpp" ? "coldhalf" : "cold";

    private static string Show(int v) => v > 0 ? v.ToString(CultureInfo.InvariantCulture) : "default";

    private sealed record ChildResult(double Seconds, double CpuSeconds, double PeakMB, long Tokens, string Steps)
    {
        public override string ToString() => $"{Seconds:F2} s wall, {CpuSeconds:F2} s CPU, peak RSS {PeakMB:F0} MB, {Tokens} tokens{(Steps.Length > 0 ? "; " + Steps : "")}";
    }

    private static ChildResult Child(string phase, string model, string data, string dir, string[] args)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") start.ArgumentList.Add(typeof(LogitsBenchmark).Assembly.Location);
        start.ArgumentList.Add("logits");
        foreach (string arg in args) start.ArgumentList.Add(arg);
        foreach (string arg in new[] { ChildFlag, phase, "--model", model, "--data", data, "--out", dir }) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"phase {phase} failed (exit {process.ExitCode}):\n{output}");
        var f = line.Split(' ', 6);
        double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);
        return new ChildResult(D(f[1]), D(f[2]), D(f[3]), long.Parse(f[4], CultureInfo.InvariantCulture), f.Length > 5 ? f[5] : "");
    }

    /// <summary>One phase, timed from after the model file exists; prints "RESULT wall cpu peakMB tokens steps".</summary>
    private static int RunChild(string phase, BenchArgs a)
    {
        int chunks = a.Int("chunks", 16), ctx = a.Int("ctx", 512), batch = a.Int("batch", 0), ubatch = a.Int("ubatch", 0);
        string model = a.Get("model")!, data = a.Get("data")!, dir = a.Get("out")!;
        NativeRuntime.Initialize();
        var steps = new List<string>();
        long tokens = 0;
        double seconds, cpu;
        var self = Process.GetCurrentProcess();
        string output = Path.Combine(dir, $"out-{phase}-{Environment.ProcessId}");
        try
        {
            if (phase is "bare" or "barehalf")
            {
                // "barehalf" requests the logits of the second half only, as llama-perplexity and a .kld baseline do.
                int firstWithLogits = phase == "barehalf" ? ctx / 2 : 0;
                // The bare decode: the same chunks, all logits requested, none copied out; its set-up is not timed.
                using var llama = LlamaModel.Load(model);
                var plan = ChunkPlan.ForModel(llama.Tokenize(File.ReadAllText(data)), ctx, llama.AddBos, llama.Bos, llama.AddEos, llama.Eos);
                int n = Math.Min(chunks, plan.ChunkCount);
                using var evaluator = new LlamaEvaluator(llama, new EvaluatorOptions { ContextSize = ctx, BatchSize = batch, UBatchSize = ubatch });
                evaluator.DecodeOnly(plan.Chunk(0), firstWithLogits: firstWithLogits);
                (seconds, cpu) = Measure(self, () => { for (int c = 0; c < n; c++) evaluator.DecodeOnly(plan.Chunk(c), firstWithLogits: firstWithLogits); });
                tokens = Enumerable.Range(0, n).Sum(c => (long)plan.ChunkLength(c));
            }
            else if (phase is "cold" or "coldhalf")
            {
                // The bare decode as a whole run does it: model load, tokenizing, a fresh context and its first decode are
                // timed, as they are in the logits phases, so the difference to those is storing and nothing else of the
                // engine's. "coldhalf" requests the second half's logits only, as a .kld baseline (and llama-perplexity) does.
                int firstWithLogits = phase == "coldhalf" ? ctx / 2 : 0;
                int n = 0;
                ChunkPlan? plan = null;
                (seconds, cpu) = Measure(self, () =>
                {
                    using var llama = LlamaModel.Load(model);
                    plan = ChunkPlan.ForModel(llama.Tokenize(File.ReadAllText(data)), ctx, llama.AddBos, llama.Bos, llama.AddEos, llama.Eos);
                    n = Math.Min(chunks, plan.ChunkCount);
                    using var evaluator = new LlamaEvaluator(llama, new EvaluatorOptions { ContextSize = ctx, BatchSize = batch, UBatchSize = ubatch });
                    for (int c = 0; c < n; c++) evaluator.DecodeOnly(plan.Chunk(c), firstWithLogits: firstWithLogits);
                });
                tokens = Enumerable.Range(0, n).Sum(c => (long)plan!.ChunkLength(c));
            }
            else if (phase == "startup")
            {
                // The steps every model-running command pays before its first decode, timed one by one.
                (seconds, cpu) = Measure(self, () =>
                {
                    var clock = Stopwatch.StartNew();
                    void Step(string name) { steps.Add($"{name} {clock.Elapsed.TotalSeconds:F2}"); clock.Restart(); }
                    using var llama = LlamaModel.Load(model); Step("load");
                    var tokensOfText = llama.Tokenize(File.ReadAllText(data)); Step("tokenize");
                    _ = ModelIdentity.Of(model); Step("identity");
                    _ = llama.TokenizerFingerprint(); Step("fingerprint");
                    using var evaluator = new LlamaEvaluator(llama, new EvaluatorOptions { ContextSize = ctx, BatchSize = batch, UBatchSize = ubatch }); Step("context");
                    var plan = ChunkPlan.ForModel(tokensOfText, ctx, llama.AddBos, llama.Bos, llama.AddEos, llama.Eos);
                    evaluator.DecodeOnly(plan.Chunk(0)); Step("first-decode");
                    evaluator.DecodeOnly(plan.Chunk(0)); Step("second-decode");
                });
            }
            else if (phase is "f32" or "f16" or "one" or "llamacpp")
            {
                int precision = phase == "f16" ? 16 : 32;
                LogitsJobResult? result = null;
                (seconds, cpu) = Measure(self, () => result = LogitsJob.Run(new LogitsJobOptions
                {
                    ModelPath = model, DatasetPath = data, OutputPath = output + (phase == "llamacpp" ? ".kld" : ".h5"), ContextSize = ctx, Precision = precision,
                    Format = phase == "llamacpp" ? LogitsFormat.LlamaCpp : LogitsFormat.Full,
                    ToChunk = phase == "one" ? 1 : chunks, BatchSize = batch, UBatchSize = ubatch,
                }, NullProgress.Instance, default));
                tokens = result!.TokensComputed;
            }
            else if (phase == "kld")
            {
                // kld --target-model against a baseline model (both the same file): two decodes per chunk, scored.
                KldJobResult? result = null;
                (seconds, cpu) = Measure(self, () => result = KldJob.Run(new KldJobOptions
                {
                    BaselineModel = model, TargetModel = model, Dataset = data, OutputFile = output + ".kld.json", ContextSize = ctx, ToChunk = chunks,
                    BatchSize = batch, UBatchSize = ubatch,
                }, NullProgress.Instance, default));
                tokens = (long)result!.ChunksComputed * ctx;
            }
            else if (phase == "kld-stored")
            {
                // kld --target-model against a stored float32 baseline of the same model: one decode per chunk, scored
                // against the baseline's rows read through the memory map.
                KldJobResult? result = null;
                (seconds, cpu) = Measure(self, () => result = KldJob.Run(new KldJobOptions
                {
                    BaselineLogits = StoredBaseline(dir), TargetModel = model, OutputFile = output + ".kld.json", ToChunk = chunks,
                    BatchSize = batch, UBatchSize = ubatch,
                }, NullProgress.Instance, default));
                tokens = (long)result!.ChunksComputed * ctx;
            }
            else if (phase == "make-baseline")
            {
                (seconds, cpu) = Measure(self, () => LogitsJob.Run(new LogitsJobOptions
                {
                    ModelPath = model, DatasetPath = data, OutputPath = StoredBaseline(dir), ContextSize = ctx, ToChunk = chunks, BatchSize = batch, UBatchSize = ubatch,
                }, NullProgress.Instance, default));
            }
            else if (phase == "imatrix")
            {
                ImatrixResult? result = null;
                (seconds, cpu) = Measure(self, () => result = ImatrixBuilder.Run(new ImatrixOptions
                {
                    ModelPath = model, DatasetPath = data, OutputPath = output + ".imatrix.gguf", ContextSize = ctx, Chunks = chunks, BatchSize = batch,
                }, NullProgress.Instance));
                tokens = (long)result!.ChunkCount * ctx;
            }
            else throw new ArgumentException($"unknown phase '{phase}'");
        }
        finally
        {
            foreach (var f in Directory.EnumerateFiles(dir, Path.GetFileName(output) + "*")) File.Delete(f);
        }
        // The runtime's own work in the run, which wall and CPU time hide in the host's drift: methods compiled and the
        // time spent compiling them (all threads, process start included).
        steps.Add(string.Create(CultureInfo.InvariantCulture, $"jit {System.Runtime.JitInfo.GetCompiledMethodCount()} methods {System.Runtime.JitInfo.GetCompilationTime().TotalSeconds:F3} s"));
        steps.Add(string.Create(CultureInfo.InvariantCulture,
            $"gc {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)} paused {GC.GetTotalPauseDuration().TotalSeconds:F3} s, allocated {GC.GetTotalAllocatedBytes() / 1e6:F0} MB"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT {seconds:F3} {cpu:F3} {PeakRssMB():F0} {tokens} {string.Join(", ", steps)}"));
        return 0;
    }

    /// <summary>The float32 baseline the kld-stored phase compares with (made once per bench folder).</summary>
    private static string StoredBaseline(string dir) => Path.Combine(dir, "stored-baseline-f32.h5");

    private static (double Wall, double Cpu) Measure(Process self, Action action)
    {
        self.Refresh();
        var cpu0 = self.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        action();
        double wall = clock.Elapsed.TotalSeconds;
        self.Refresh();
        return (wall, (self.TotalProcessorTime - cpu0).TotalSeconds);
    }

    /// <summary>The process's peak resident set (VmHWM), in MB.</summary>
    private static double PeakRssMB()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        return double.NaN;
    }
}
