using System.Diagnostics;
using System.Numerics.Tensors;
using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Kld;
using GgufOptimize.Logits;
using GgufOptimize.Quantization;
using GgufOptimize.Storage;
using GgufOptimize.Storage.Formats;
using GgufOptimize.Synthetic;

namespace GgufOptimize.Bench;

/// <summary>
/// Everything the storage formats issue asks to be measured, in one run on one machine: KLD error of every encoding
/// against float32 exact and its bytes per token (real model in ../shared and a synthetic 32k-vocab model, each against
/// Q8_0 and Q4_0 quantizations of itself); write and page-cache read throughput of the full format against dd; and
/// end-to-end kld --target-model tokens/s against a bare decode of the target.
/// </summary>
public sealed class FormatsBenchmark : IBenchmark
{
    public string Name => "formats";
    public string Description => "storage formats: KLD error + bytes/token per encoding, write/read vs dd, kld end-to-end [--chunks 12] [--ctx 512] [--write-mb 1024] [--dir /tmp] [--shared ../shared] [--only errors|throughput|e2e]";

    public int Run(string[] args)
    {
        var a = new BenchArgs(args);
        int chunks = a.Int("chunks", 12), ctx = a.Int("ctx", 512), writeMb = a.Int("write-mb", 1024);
        string only = a.Get("only") ?? "all";
        bool Part(string name) => only == "all" || only == name;
        string dir = Path.Combine(a.Get("dir") ?? Path.GetTempPath(), $"ggufopt-formats-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            NativeRuntime.Initialize();
            Console.WriteLine($"load at start: {File.ReadAllText("/proc/loadavg").Trim()} (2 cores shared with other work)");

            // Real model (../shared), if present.
            if (Part("throughput")) Throughput(dir, writeMb);
            if (!Part("errors") && !Part("e2e")) return 0;

            string? shared = a.Get("shared") ?? SharedFolder.Find();
            if (shared is not null && Part("errors"))
            {
                string model = Path.Combine(shared, "models", "aidreams260K-f32.gguf");
                string text = File.ReadAllText(Path.Combine(shared, "data", "aidreams-samples.txt"));
                foreach (var type in new[] { "Q8_0", "Q4_0" })
                    FormatsErrorStudy.Run($"aidreams260K f32 vs {type} (real model)", model, Quantize(model, type, dir), text, 128, 4 * chunks);
            }
            else Console.WriteLine("../shared not found: real-model study skipped");

            // Synthetic 32k vocabulary, text sampled from the model itself.
            string synthetic = SyntheticWorkload.WriteModel(dir, embd: 256, layers: 2, ctx);
            string sampled = SampleText(synthetic, chunks * ctx);
            string data = Path.Combine(dir, "synthetic.txt");
            File.WriteAllText(data, sampled);
            string q4 = Quantize(synthetic, "Q4_0", dir);
            if (Part("errors"))
            {
                FormatsErrorStudy.Run("synthetic 32k f32 vs Q8_0", synthetic, Quantize(synthetic, "Q8_0", dir), sampled, ctx, chunks);
                FormatsErrorStudy.Run("synthetic 32k f32 vs Q4_0", synthetic, q4, sampled, ctx, chunks);
            }
            if (Part("e2e")) EndToEnd(dir, synthetic, q4, data, ctx, chunks);
            Console.WriteLine($"load at end: {File.ReadAllText("/proc/loadavg").Trim()}");
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Quantize(string model, string type, string dir)
    {
        var outcome = ModelQuantizer.Run(new QuantizeOptions
        {
            ModelPath = model, OutputDirectory = dir, Types = [QuantizationTypes.Parse(type)], Name = Path.GetFileNameWithoutExtension(model),
        }, NullProgress.Instance).Single();
        return outcome.OutputPath;
    }

    private static string SampleText(string model, int tokens)
    {
        using var llama = LlamaModel.Load(model);
        using var generator = new ModelTextGenerator(llama, new TextGenerationOptions { Seed = 3, MaxTokens = 256 });
        var sb = new System.Text.StringBuilder();
        while (llama.Tokenize(sb.ToString()).Length < tokens + 64)
            sb.Append(generator.Generate(8).ToDocument()).Append('\n');
        return sb.ToString();
    }

    /// <summary>Full float32 storage through the logits job's own path (queue → contiguous HDF5, fsync per chunk) and mapped reads, against dd.</summary>
    private static void Throughput(string dir, int megabytes)
    {
        const int vocab = 32000, ctx = 1024, batch = 512;
        long chunkBytes = (long)ctx * vocab * 4;
        int chunks = (int)Math.Max(1, ((long)megabytes << 20) / chunkBytes);
        long bytes = chunks * chunkBytes;
        var random = new Random(5);
        var rows = new float[batch * vocab];
        for (int i = 0; i < rows.Length; i++) rows[i] = (float)(random.NextDouble() * 20 - 10);
        var tokens = Enumerable.Range(0, chunks * (ctx - 1)).Select(_ => random.Next(vocab)).ToArray();
        var plan = new ChunkPlan(tokens, ctx, 1, null);
        var header = new BaselineHeader
        {
            ContextSize = ctx, VocabSize = vocab, TotalChunks = plan.ChunkCount, Precision = 32,
            Model = new ModelIdentity("bench.gguf", 0, new string('0', 64)), DatasetFile = "bench.txt", DatasetSha256 = new string('0', 64),
            TokenizerSha256 = new string('0', 64), AddBos = true, AddEos = false,
        };
        string path = Path.Combine(dir, "throughput.h5");
        Console.WriteLine();
        Console.WriteLine($"## Write / read, full float32 format: {chunks} chunks x {ctx} x {vocab} = {bytes / 1e6:F0} MB; load {File.ReadAllText("/proc/loadavg").Trim()}");
        double dd = DiskAnchor.DdWriteMBps(dir, megabytes);
        var clock = Stopwatch.StartNew();
        using (var file = BaselineLogitsFile.OpenOrCreate(path, header, plan, clobber: true, NullProgress.Instance))
        {
            using (var queue = new LogitsWriteQueue(file, vocab))
            {
                for (int c = 0; c < chunks; c++)
                {
                    for (int first = 0; first < ctx; first += batch) queue.Add(c, first, rows);
                    queue.EndChunk(c);
                }
                queue.Finish();
            }
            file.Complete(0, chunks);
        }
        double write = bytes / 1e6 / clock.Elapsed.TotalSeconds;
        Console.WriteLine($"dd if=/dev/zero bs=1M count={megabytes} conv=fdatasync: {dd:F0} MB/s");
        Console.WriteLine($"logits writer (background queue, fsync per chunk, final fsync): {write:F0} MB/s = {write / dd * 100:F0} % of dd");

        double sink = 0;
        using (var reader = BaselineLogitsReader.Open(path))
        {
            var read = Stopwatches.Measure(() => { for (int c = 0; c < chunks; c++) sink += TensorPrimitives.Sum(reader.ChunkLogits(c)); }, 3);
            Console.WriteLine($"mapped read from page cache (sum of every logit): best {bytes / 1e9 / read.BestSeconds:F2} GB/s, median {bytes / 1e9 / read.MedianSeconds:F2} GB/s");
        }
        Console.WriteLine($"dd if=file of=/dev/null bs=1M (page cache): {DdReadGBps(path):F2} GB/s  (checksum {sink:G3})");
        File.Delete(path);
    }

    private static double DdReadGBps(string path)
    {
        var psi = new ProcessStartInfo("dd", $"if={path} of=/dev/null bs=1M") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        return new FileInfo(path).Length / 1e9 / clock.Elapsed.TotalSeconds;
    }

    /// <summary>kld --target-model tokens/s with a full and a compact baseline, against a bare decode of the same chunks by the target.</summary>
    private static void EndToEnd(string dir, string baseline, string target, string data, int ctx, int chunks)
    {
        Console.WriteLine();
        Console.WriteLine($"## End to end (synthetic 32k f32 baseline, Q4_0 target, {chunks} chunks x {ctx}); load {File.ReadAllText("/proc/loadavg").Trim()}");
        string full = Path.Combine(dir, "e2e-full.h5"), compact = Path.Combine(dir, "e2e-compact.h5");
        using (var model = LlamaModel.Load(baseline))
        {
            var plan = ChunkPlan.ForModel(model.Tokenize(File.ReadAllText(data)), ctx, model.AddBos, model.Bos, model.AddEos, model.Eos);
            chunks = Math.Min(chunks, plan.ChunkCount);
            long tokens = Enumerable.Range(0, chunks).Sum(c => (long)plan.ChunkLength(c));
            using (var evaluator = new LlamaEvaluator(model, new EvaluatorOptions { ContextSize = ctx }))
            {
                evaluator.DecodeOnly(plan.Chunk(0));
                double bare = Time(() => { for (int c = 0; c < chunks; c++) evaluator.DecodeOnly(plan.Chunk(c)); });
                double logits = Time(() => LogitsJob.Run(new LogitsJobOptions { ModelPath = baseline, DatasetPath = data, OutputPath = full, ContextSize = ctx, ToChunk = chunks }, NullProgress.Instance, default));
                double compactSeconds = Time(() => LogitsJob.Run(new LogitsJobOptions { ModelPath = baseline, DatasetPath = data, OutputPath = compact, ContextSize = ctx, ToChunk = chunks, Format = LogitsFormat.Compact }, NullProgress.Instance, default));
                Console.WriteLine($"baseline bare decode: {tokens / bare:F0} tok/s; logits --format full: {tokens / logits:F0} tok/s ({(logits / bare - 1) * 100:F1} % over bare, includes model load + tokenizing); --format compact: {tokens / compactSeconds:F0} tok/s ({(compactSeconds / bare - 1) * 100:F1} %)");
                Console.WriteLine($"file sizes: full {new FileInfo(full).Length / 1e6:F1} MB, compact (ε={LogitsJobOptions.DefaultTailMass:0e0}) {new FileInfo(compact).Length / 1e6:F1} MB");
            }
            using var targetModel = LlamaModel.Load(target);
            using var targetEvaluator = new LlamaEvaluator(targetModel, new EvaluatorOptions { ContextSize = ctx });
            targetEvaluator.DecodeOnly(plan.Chunk(0));
            double targetBare = Time(() => { for (int c = 0; c < chunks; c++) targetEvaluator.DecodeOnly(plan.Chunk(c)); });
            foreach (var (name, baselineFile) in new[] { ("full", full), ("compact", compact) })
            {
                double seconds = Time(() => KldJob.Run(new KldJobOptions { BaselineLogits = baselineFile, TargetModel = target, OutputFile = Path.Combine(dir, $"cmp-{name}.h5"), Clobber = true }, NullProgress.Instance, default));
                Console.WriteLine($"kld --baseline-logits ({name}) --target-model Q4_0: {tokens / seconds:F0} tok/s vs target bare decode {tokens / targetBare:F0} tok/s ({(seconds / targetBare - 1) * 100:F1} % over bare, includes model load)");
            }
        }
    }

    private static double Time(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }
}
