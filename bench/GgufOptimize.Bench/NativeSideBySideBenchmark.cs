using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace GgufOptimize.Bench;

/// <summary>
/// Our commands side by side with llama.cpp's own tools built natively (bench/native-llama/build.sh), on one
/// synthetic model and text: each pair runs alternately, whole processes, and the table gives medians. Each side is
/// also divided by its own bare decode (our `decode` benchmark in a child process; a plain llama-perplexity pass),
/// which separates the engine's share (bare decode against bare decode) from what each tool adds on top.
/// </summary>
public sealed class NativeSideBySideBenchmark : IBenchmark
{
    public string Name => "native";
    public string Description => "our commands vs natively built llama.cpp tools, paired alternating runs --llama-bin DIR [--cli PATH] [--chunks 16] [--ctx 512] [--embd 256] [--layers 2] [--reps 5] [--threads 2] [--dir /tmp] [--only a,b] [--keep 1]";

    private sealed record Pair(string Name, string[] Ours, string[] Theirs, string? OursBare = "bare decode", string? TheirsBare = "bare decode")
    {
        /// <summary>
        /// Our outputs, deleted before each of our runs: with the same inputs our commands continue a finished output
        /// (and would only report it), so every timed run must start from nothing, as llama.cpp's does.
        /// </summary>
        public string[] OursOutputs { get; init; } = [];
    }

    public int Run(string[] args)
    {
        var a = new BenchArgs(args);
        string bin = a.Get("llama-bin") ?? throw new ArgumentException("--llama-bin DIR (the native build's bin folder) is required");
        string cli = a.Get("cli") ?? DefaultCli();
        int chunks = a.Int("chunks", 16), ctx = a.Int("ctx", 512), embd = a.Int("embd", 256), layers = a.Int("layers", 2);
        int reps = a.Int("reps", 5), threads = a.Int("threads", 2);
        var only = a.Get("only")?.Split(',', StringSplitOptions.RemoveEmptyEntries);
        string dir = Path.Combine(a.Get("dir") ?? Path.GetTempPath(), $"ggufopt-native-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            string model = SyntheticWorkload.WriteModel(dir, embd, layers, ctx);
            ConvertToF16(model, cli, dir, out model);
            string text = SyntheticWorkload.WriteText(dir, (chunks + 1) * ctx);
            string t = threads.ToString(CultureInfo.InvariantCulture), c = ctx.ToString(CultureInfo.InvariantCulture);
            string n = chunks.ToString(CultureInfo.InvariantCulture);
            string Tool(string name) => Path.Combine(bin, name);
            string P(string name) => Path.Combine(dir, name);

            // Inputs both kld runs read, made once outside the timed runs.
            string q4 = P("target-Q4_K_M.gguf");
            Must(Tool("llama-quantize"), [model, q4, "Q4_K_M", t]);
            Must(Tool("llama-perplexity"), ["-m", model, "-f", text, "-c", c, "-b", c, "-t", t, "--chunks", n, "--kl-divergence-base", P("prepared.kld")]);
            Must(cli, ["logits", "-m", model, "-d", text, "-c", c, "-t", t, "--to-chunk", n, "--format", "full", "-o", P("prepared.h5"), "-q"]);

            string[] ppl = ["-m", model, "-f", text, "-c", c, "-b", c, "-t", t, "--chunks", n];
            string[] ours = ["-m", model, "-d", text, "-c", c, "-t", t, "--to-chunk", n, "--overwrite", "-q"];
            var pairs = new List<Pair>
            {
                new("bare decode", [.. SelfCommand(), "decode", "--model", model, "--text", text, "--ctx", c, "--chunks", n, "--threads", t],
                    [Tool("llama-perplexity"), .. ppl], null, null),
                // llama-perplexity requests logits for the scored second half only; on a model whose output matrix is
                // most of the work (a small synthetic one), that alone halves much of the decode. Same work here:
                new("bare decode, logits of the second half only", [.. SelfCommand(), "decode", "--model", model, "--text", text, "--ctx", c, "--chunks", n, "--threads", t,
                        "--first", (ctx / 2).ToString(CultureInfo.InvariantCulture)],
                    [Tool("llama-perplexity"), .. ppl], null, null),
                new("store baseline (logits f32 vs --kl-divergence-base)", [cli, "logits", .. ours, "--format", "full", "-o", P("timed.h5")],
                    [Tool("llama-perplexity"), .. ppl, "--kl-divergence-base", P("timed.kld")]) { OursOutputs = [P("timed.h5")] },
                new("store baseline (logits f16 vs --kl-divergence-base)", [cli, "logits", .. ours, "--precision", "16", "-o", P("timed16.h5")],
                    [Tool("llama-perplexity"), .. ppl, "--kl-divergence-base", P("timed.kld")]) { OursOutputs = [P("timed16.h5")] },
                new("store .kld (logits --format llamacpp vs --kl-divergence-base)", [cli, "logits", .. ours, "--format", "llamacpp", "-o", P("timed-ours.kld")],
                    [Tool("llama-perplexity"), .. ppl, "--kl-divergence-base", P("timed.kld")], "bare decode, logits of the second half only") { OursOutputs = [P("timed-ours.kld")] },
                new("kld Q4_K_M vs stored baseline", [cli, "kld", "--baseline-logits", P("prepared.h5"), "--target-model", q4, "-c", c, "-t", t, "--to-chunk", n, "-o", P("cmp.h5"), "--overwrite", "-q"],
                    [Tool("llama-perplexity"), "-m", q4, "-f", text, "-c", c, "-b", c, "-t", t, "--chunks", n, "--kl-divergence-base", P("prepared.kld"), "--kl-divergence"]) { OursOutputs = [P("cmp.h5")] },
                new("kld Q4_K_M vs the same .kld baseline", [cli, "kld", "--baseline-logits", P("prepared.kld"), "--target-model", q4, "-t", t, "-o", P("cmp-kld.h5"), "--overwrite", "-q"],
                    [Tool("llama-perplexity"), "-m", q4, "-f", text, "-c", c, "-b", c, "-t", t, "--chunks", n, "--kl-divergence-base", P("prepared.kld"), "--kl-divergence"]) { OursOutputs = [P("cmp-kld.h5")] },
                new("imatrix", [cli, "imatrix", "-m", model, "-d", text, "-c", c, "-t", t, "--chunks", n, "-o", P("im.gguf"), "--overwrite", "-q"],
                    [Tool("llama-imatrix"), "-m", model, "-f", text, "-c", c, "-b", c, "-t", t, "--chunks", n, "-o", P("im.dat")]) { OursOutputs = [P("im.gguf")] },
                new("quantize Q4_K_M", [cli, "quantize", "-m", model, "--types", "Q4_K_M", "-t", t, "-o", P("q"), "--name", "m", "--overwrite", "-q"],
                    [Tool("llama-quantize"), model, P("theirs-Q4_K_M.gguf"), "Q4_K_M", t], null, null) { OursOutputs = [P("q/m-Q4_K_M.gguf")] },
                new("one chunk (logits f32 vs --kl-divergence-base)", [cli, "logits", .. ours[..^4], "--to-chunk", "1", "--format", "full", "--overwrite", "-q", "-o", P("one.h5")],
                    [Tool("llama-perplexity"), .. ppl[..^2], "--chunks", "1", "--kl-divergence-base", P("one.kld")], null, null) { OursOutputs = [P("one.h5")] },
            };
            Console.WriteLine($"model: synthetic llama F16, vocab 32000, n_embd {embd}, {layers} layers, {new FileInfo(model).Length / 1e6:F0} MB; " +
                              $"{chunks} chunks x {ctx} tokens; threads {threads}; {reps} alternating repetitions per pair; load at start {File.ReadAllText("/proc/loadavg").Trim()}");
            Console.WriteLine($"ours: {cli}; llama.cpp: {bin} ({NativeVersion(Tool("llama-perplexity"))})");
            Console.WriteLine();

            var medians = new Dictionary<string, (double Ours, double Theirs)>();
            var cpuMedians = new Dictionary<string, (double Ours, double Theirs)>();
            foreach (var pair in pairs.Where(p => only is null || only.Any(o => p.Name.StartsWith(o, StringComparison.Ordinal))))
            {
                var o = new List<double>(); var th = new List<double>(); var oc = new List<double>(); var thc = new List<double>();
                for (int r = 0; r < reps; r++)
                {
                    // Alternate which side goes first so drift in machine load falls on both.
                    if (r % 2 == 0) { Clean(pair); Add(o, oc, pair.Ours); Add(th, thc, pair.Theirs); }
                    else { Add(th, thc, pair.Theirs); Clean(pair); Add(o, oc, pair.Ours); }
                }
                medians[pair.Name] = (Medians.Of(o), Medians.Of(th));
                cpuMedians[pair.Name] = (Medians.Of(oc), Medians.Of(thc));
                Console.WriteLine($"{pair.Name}: ours {Medians.Of(o):F2} s wall [{List(o)}], {Medians.Of(oc):F2} s CPU [{List(oc)}]; " +
                                  $"llama.cpp {Medians.Of(th):F2} s wall [{List(th)}], {Medians.Of(thc):F2} s CPU [{List(thc)}]");
            }

            foreach (var (title, table) in new[] { ("wall time", medians), ("CPU time (user + system of the child process)", cpuMedians) })
            {
                Console.WriteLine();
                Console.WriteLine($"{title}, medians:");
                Console.WriteLine("| task | ours (s) | llama.cpp (s) | ours / llama.cpp | ours over our bare decode | llama.cpp over its bare decode |");
                Console.WriteLine("|---|---:|---:|---:|---:|---:|");
                table.TryGetValue("bare decode", out var bare);
                foreach (var pair in pairs.Where(p => table.ContainsKey(p.Name)))
                {
                    var (mo, mt) = table[pair.Name];
                    // Each side over the bare decode doing the same engine work (a .kld asks for the second half's logits only).
                    double oursBare = pair.OursBare is not null && table.TryGetValue(pair.OursBare, out var ob) ? ob.Ours : 0;
                    string overOurs = oursBare > 0 ? $"{(mo / oursBare - 1) * 100:+0;-0} %" : "";
                    string overTheirs = pair.TheirsBare is not null && bare.Theirs > 0 ? $"{(mt / bare.Theirs - 1) * 100:+0;-0} %" : "";
                    Console.WriteLine($"| {pair.Name} | {mo:F2} | {mt:F2} | {mo / mt:F2}× | {overOurs} | {overTheirs} |");
                }
            }
            Console.WriteLine($"load at end {File.ReadAllText("/proc/loadavg").Trim()}");
            return 0;
        }
        finally
        {
            if (a.Int("keep", 0) == 0) Directory.Delete(dir, recursive: true);
            else Console.WriteLine($"kept {dir}");
        }
    }

    /// <summary>The synthetic writer makes F32; llama.cpp's tools are compared on F16, as users run them.</summary>
    private static void ConvertToF16(string f32, string cli, string dir, out string f16)
    {
        Must(cli, ["quantize", "-m", f32, "--types", "F16", "-o", dir, "--name", "synthetic-32k", "-q"]);
        f16 = Path.Combine(dir, "synthetic-32k-F16.gguf");
        if (!File.Exists(f16)) throw new InvalidOperationException($"quantize did not write {f16}");
    }

    /// <summary>How to start this benchmark program again: its apphost, or `dotnet` and its dll.</summary>
    private static string[] SelfCommand()
    {
        string self = Environment.ProcessPath!;
        return Path.GetFileNameWithoutExtension(self) == "dotnet" ? [self, typeof(NativeSideBySideBenchmark).Assembly.Location] : [self];
    }

    private static string DefaultCli()
    {
        string root = AppContext.BaseDirectory;
        for (var d = new DirectoryInfo(root); d is not null; d = d.Parent)
        {
            string candidate = Path.Combine(d.FullName, "src", "GgufOptimize.Cli", "bin", "Release", "net10.0", "gguf-optimize");
            if (File.Exists(candidate)) return candidate;
        }
        throw new ArgumentException("cannot find the Release build of gguf-optimize; build it or pass --cli PATH");
    }

    private static string NativeVersion(string perplexity)
    {
        var psi = new ProcessStartInfo(perplexity, "--version") { RedirectStandardError = true, RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        string all = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        return string.Join("; ", all.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    private static void Must(string exe, string[] args)
    {
        if (Run(exe, args) is var (code, err) && code != 0)
            throw new InvalidOperationException($"{Path.GetFileName(exe)} {string.Join(' ', args)} failed ({code}): {err}");
    }

    private static void Clean(Pair pair)
    {
        foreach (string f in pair.OursOutputs.Where(File.Exists)) File.Delete(f);
    }

    private static string List(List<double> xs) => string.Join(" ", xs.Select(x => x.ToString("F2", CultureInfo.InvariantCulture)));

    /// <summary>Runs one command; adds its wall time and the CPU time its process (and its children) used.</summary>
    private static void Add(List<double> wall, List<double> cpu, string[] command)
    {
        double before = ChildrenCpuSeconds();
        var clock = Stopwatch.StartNew();
        var (code, err) = Run(command[0], command[1..]);
        wall.Add(clock.Elapsed.TotalSeconds);
        // One child at a time, reaped before this returns: the RUSAGE_CHILDREN delta is that child's CPU time.
        cpu.Add(ChildrenCpuSeconds() - before);
        if (code != 0) throw new InvalidOperationException($"{string.Join(' ', command)} failed ({code}): {err}");
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSeconds, UserMicros, SystemSeconds, SystemMicros;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = 14)] public long[] Rest;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int getrusage(int who, ref RUsage usage);

    private static double ChildrenCpuSeconds()
    {
        var u = new RUsage { Rest = new long[14] };
        if (getrusage(-1 /* RUSAGE_CHILDREN */, ref u) != 0) return double.NaN;
        return u.UserSeconds + u.UserMicros / 1e6 + u.SystemSeconds + u.SystemMicros / 1e6;
    }

    private static (int Code, string StdErrTail) Run(string exe, string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string arg in args) psi.ArgumentList.Add(arg);
        using var p = Process.Start(psi)!;
        // Drain both pipes concurrently: llama.cpp's tools log a lot on stderr and would block on a full pipe.
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        string err = stderr.Result;
        _ = stdout.Result;
        return (p.ExitCode, err.Length > 2000 ? err[^2000..] : err);
    }

}
