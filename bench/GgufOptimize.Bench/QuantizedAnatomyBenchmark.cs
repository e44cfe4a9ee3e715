using System.IO.Compression;
using GgufOptimize.Chunking;
using GgufOptimize.Engine;
using GgufOptimize.Storage.Formats.Compact;
using GgufOptimize.Synthetic;

namespace GgufOptimize.Bench;

/// <summary>
/// Where the bytes of the quantized compact encoding go (issue 13): on one chunk of a synthetic model, per tail mass ε,
/// the kept tokens per row, the Brotli size of the ids, codes and headers as separate streams and interleaved, the
/// combinatorial bound of the id sets (log₂ C(V, k) per row), what a per-token frequency model shared across rows would
/// cost (the entropy of "token t is kept" with its frequency over the chunk: a lower bound of any adaptive model of it),
/// the share of a row's ids already in the previous row's set, and the order-0 entropy of the codes under several
/// code mappings.
/// </summary>
public sealed class QuantizedAnatomyBenchmark : IBenchmark
{
    public string Name => "qanatomy";
    public string Description => "where compact-2's bytes go: ids vs codes vs headers, kept tokens per row, id/code entropies [--vocab 128256] [--kind realistic] [--ctx 512] [--rows FILE (cache of the chunk's logits)]";

    public int Run(string[] args)
    {
        var a = new BenchArgs(args);
        int vocab = a.Int("vocab", 128256), ctx = a.Int("ctx", 512);
        string kind = a.Get("kind") ?? "realistic";
        string dir = Path.Combine(Path.GetTempPath(), $"ggufopt-qanatomy-{Environment.ProcessId}");
        string? cache = a.Get("rows");
        float[] rows;
        int n;
        if (cache is not null && File.Exists(cache))
        {
            var bytes = File.ReadAllBytes(cache);
            rows = new float[bytes.Length / 4];
            Buffer.BlockCopy(bytes, 0, rows, 0, bytes.Length);
            n = rows.Length / vocab;
        }
        else
        {
            Directory.CreateDirectory(dir);
            try
            {
                NativeRuntime.Initialize();
                var options = kind == "flat" ? SyntheticModelOptions.Flat(vocab) : SyntheticModelOptions.Realistic(vocab);
                string model = Path.Combine(dir, $"{kind}-{vocab}.gguf");
                SyntheticModel.Write(model, options with { ContextLength = ctx });
                string text = SyntheticVocabulary.Build(vocab).RandomWords(ctx + 256, 5);
                using var llama = LlamaModel.Load(model);
                var plan = ChunkPlan.ForModel(llama.Tokenize(text), ctx, llama.AddBos, llama.Bos, llama.AddEos, llama.Eos);
                using var evaluator = new LlamaEvaluator(llama, new EvaluatorOptions { ContextSize = ctx });
                var tokens = plan.Chunk(0);
                n = tokens.Length;
                rows = new float[n * (long)vocab];
                evaluator.EvaluateChunk(tokens, rows);
            }
            finally { Directory.Delete(dir, recursive: true); }
            if (cache is not null)
            {
                var bytes = new byte[rows.Length * 4L];
                Buffer.BlockCopy(rows, 0, bytes, 0, bytes.Length);
                File.WriteAllBytes(cache, bytes);
            }
        }
        Console.WriteLine($"{kind} vocab {vocab}: {n} rows; load {File.ReadAllText("/proc/loadavg").Trim()}");
        if (a.Int("cost", 0) == 1)
        {
            Cost(rows, n, vocab, a.Int("rounds", 2));
            return 0;
        }
        if (a.Int("shape", 0) == 1)
        {
            Shape(rows, n, vocab);
            return 0;
        }
        foreach (double eps in (a.Get("eps") ?? "1e-4,3e-4,1e-3").Split(',').Select(double.Parse))
            Anatomy(rows, n, vocab, eps);
        return 0;
    }

    private static void Anatomy(float[] rows, int n, int vocab, double eps)
    {
        var selector = new QuantizedRowSelector(eps);
        var counts = new int[n];
        var frequency = new int[vocab];
        var ids = new MemoryStream();
        var headers = new MemoryStream();
        var mappings = new (string Name, Func<double, double, int> Code)[]
        {
            ("ρ 1e-6, Δ 0.05 (compact-2 default)", (p, l) => Code(p, l, 1e-6, 0.05, 0, 0)),
            ("ρ 1e-6, Δ 0.1", (p, l) => Code(p, l, 1e-6, 0.1, 0, 0)),
            ("ρ 1e-6, Δ 0.05, Δ₂ 0.5 below 1e-6", (p, l) => Code(p, l, 1e-6, 0.05, 1e-6, 0.5)),
            ("ρ 1e-6, Δ 0.05, Δ₂ 1 below 1e-6", (p, l) => Code(p, l, 1e-6, 0.05, 1e-6, 1.0)),
            ("ρ 1e-6, Δ 0.1, Δ₂ 0.5 below 2e-6", (p, l) => Code(p, l, 1e-6, 0.1, 2e-6, 0.5)),
            ("ρ 1e-6, Δ 0.1, Δ₂ 1 below 2e-6", (p, l) => Code(p, l, 1e-6, 0.1, 2e-6, 1.0)),
            ("ρ 2e-6, Δ 0.1, Δ₂ 1 below 4e-6", (p, l) => Code(p, l, 2e-6, 0.1, 4e-6, 1.0)),
            ("ρ 4e-6, Δ 0.2, Δ₂ 1 below 4e-6", (p, l) => Code(p, l, 4e-6, 0.2, 4e-6, 1.0)),
            ("ρ 2e-6, Δ 0.1, Δ₂ 2 below 2e-6", (p, l) => Code(p, l, 2e-6, 0.1, 2e-6, 2.0)),
            ("ρ 1e-5 absolute, Δ 0.5 below 2e-5", (p, l) => Code(p, l, 1e-5, 0.5, 0, 0)),
            ("√P step (Δ at 2e-5)", (p, l) => (int)Math.Round(Math.Sqrt(p) / (0.05 * Math.Sqrt(2e-5) / 2))),
        };
        var codeStreams = mappings.Select(_ => new MemoryStream()).ToArray();
        var codeCounts = mappings.Select(_ => new Dictionary<int, int>()).ToArray();
        double combinatorial = 0, overlap = 0, keptTotal = 0;
        HashSet<int>? previous = null;
        Span<byte> buffer = stackalloc byte[8];
        for (int r = 0; r < n; r++)
        {
            var row = rows.AsSpan(r * vocab, vocab);
            selector.Select(row, System.Numerics.Tensors.TensorPrimitives.Max(row));
            int k = selector.Count;
            counts[r] = k;
            keptTotal += k;
            combinatorial += LogChoose(vocab, k) / Math.Log(2);
            headers.Write(new byte[QuantizedChunk.RowHeaderBytes - 4]);
            int prev = -1;
            var set = new HashSet<int>();
            foreach (int id in selector.Ids)
            {
                ids.Write(buffer[..Varint.Write(buffer, (uint)(id - prev - 1))]);
                prev = id;
                frequency[id]++;
                set.Add(id);
                if (previous?.Contains(id) == true) overlap++;
            }
            previous = set;
            for (int m = 0; m < mappings.Length; m++)
                for (int j = 0; j < k; j++)
                {
                    int code = mappings[m].Code(selector.P[j], selector.LogP[j]);
                    codeStreams[m].Write(buffer[..Varint.Write(buffer, Varint.ZigZag(code))]);
                    codeCounts[m][code] = codeCounts[m].GetValueOrDefault(code) + 1;
                }
        }
        // A frequency model shared by all rows: token t kept with probability f_t/n in every row.
        double shared = 0;
        foreach (int f in frequency)
        {
            if (f == 0 || f == n) continue;
            double q = f / (double)n;
            shared += -(f * Math.Log2(q) + (n - f) * Math.Log2(1 - q));
        }
        var sorted = counts.Order().ToArray();
        Console.WriteLine($"\nε {eps:G2}: kept tokens per row mean {keptTotal / n:F0}, median {sorted[n / 2]}, p90 {sorted[(int)(0.9 * (n - 1))]}, max {sorted[^1]}; " +
                          $"distinct tokens kept in any row {frequency.Count(f => f > 0)}");
        Console.WriteLine($"  ids: varint gaps {ids.Length / (double)n:F0} B/row raw, Brotli q4 {Brotli(ids) / (double)n:F0} B/row ({Brotli(ids) * 8.0 / keptTotal:F2} bits/id); " +
                          $"log₂ C(V,k) {combinatorial / 8 / n:F0} B/row ({combinatorial / keptTotal:F2} bits/id); " +
                          $"shared per-token frequency model {shared / 8 / n:F0} B/row ({shared / keptTotal:F2} bits/id); in previous row's set {overlap / keptTotal * 100:F1} %");
        Console.WriteLine($"  headers: {QuantizedChunk.RowHeaderBytes} B/row raw, Brotli q4 {Brotli(headers) / (double)n:F0} B/row (zeros here: the real ones compress to ~25)");
        for (int m = 0; m < mappings.Length; m++)
        {
            double entropy = 0;
            foreach (int c in codeCounts[m].Values) entropy -= c * Math.Log2(c / keptTotal);
            Console.WriteLine($"  codes {mappings[m].Name}: Brotli q4 {Brotli(codeStreams[m]) / (double)n:F0} B/row ({Brotli(codeStreams[m]) * 8.0 / keptTotal:F2} bits/code), order-0 entropy {entropy / keptTotal:F2} bits/code, {codeCounts[m].Count} distinct");
        }
    }

    /// <summary>
    /// Where the encoder's CPU goes on the cached chunk (single thread, best of --rounds): the row statistics pass, the
    /// selection, the whole row encoding (selection + codes), and Brotli per quality, with the bytes each quality gives.
    /// </summary>
    private static void Cost(float[] rows, int n, int vocab, int rounds)
    {
        // Process CPU time rather than wall time: the loop is single-threaded, and on a shared 2-core machine the wall
        // clock also counts the time other processes held the core.
        var process = System.Diagnostics.Process.GetCurrentProcess();
        double Best(Action run)
        {
            double best = double.MaxValue;
            for (int r = 0; r < rounds; r++)
            {
                process.Refresh();
                var cpu = process.TotalProcessorTime;
                run();
                process.Refresh();
                best = Math.Min(best, (process.TotalProcessorTime - cpu).TotalMilliseconds / n);
            }
            return best;
        }
        var settings = QuantizedRowSettings.Default;
        double stats = Best(() => { for (int r = 0; r < n; r++) { var row = rows.AsSpan(r * vocab, vocab); GgufOptimize.Metrics.RowSoftmax.Stats(row); System.Numerics.Tensors.TensorPrimitives.Min(row); } });
        var selector = new QuantizedRowSelector(settings.TailMass);
        double select = Best(() => { for (int r = 0; r < n; r++) { var row = rows.AsSpan(r * vocab, vocab); selector.Select(row, System.Numerics.Tensors.TensorPrimitives.Max(row)); } });
        Console.WriteLine($"per row, process CPU: stats + min {stats:F3} ms, selection {select:F3} ms (load {File.ReadAllText("/proc/loadavg").Trim()})");
        foreach (var (name, candidate, codec) in new[] { ("compact-3 (one stream, quality 4)", QuantizedRowSettings.Compact3, StreamCodec.Zstandard),
                     ("compact-4, every stream Brotli quality 4", settings, StreamCodec.Brotli), ("compact-4 default (codes Zstandard, ids Brotli 4)", settings, StreamCodec.Zstandard) })
        {
            var encoder = new QuantizedChunkEncoder(candidate, vocab) { CodesCodec = codec };
            double each = Best(() => { for (int r = 0; r < n; r++) encoder.Add(rows.AsSpan(r * vocab, vocab), -1); encoder.Finish(); });
            for (int r = 0; r < n; r++) encoder.Add(rows.AsSpan(r * vocab, vocab), -1);
            Console.WriteLine($"  {name}: rows + compression {each:F3} ms/row, {encoder.Finish().Length / (double)n:F0} B/row");
        }
        foreach (var (quality, idsQuality) in new (int, int?)[] { (4, null), (4, 2), (2, null), (2, 4) })
        {
            var encoder = new QuantizedChunkEncoder(settings, vocab) { BrotliQuality = quality, CodesBrotliQuality = quality, IdsBrotliQuality = idsQuality ?? quality, CodesCodec = StreamCodec.Brotli };
            double add = Best(() => { for (int r = 0; r < n; r++) encoder.Add(rows.AsSpan(r * vocab, vocab), -1); encoder.Finish(); });
            for (int r = 0; r < n; r++) encoder.Add(rows.AsSpan(r * vocab, vocab), -1);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            int bytes = encoder.Finish().Length;
            double finish = clock.Elapsed.TotalMilliseconds / n;
            Console.WriteLine($"  Brotli quality {quality} (ids {idsQuality ?? quality}): rows + compression {add:F3} ms/row (compression alone {finish:F3}), {bytes / (double)n:F0} B/row");
        }
        // The same rows split into streams (headers+trailers, id gaps, codes), each compressed on its own: a low quality
        // has one literal code per meta-block, so mixing the streams costs it more than it costs quality 4.
        var whole = new QuantizedChunkEncoder(settings, vocab);
        for (int r = 0; r < n; r++) whole.Add(rows.AsSpan(r * vocab, vocab), -1);
        var chunk = new QuantizedChunk();
        chunk.Load(whole.Finish());
        var heads = new MemoryStream();
        var gaps = new MemoryStream();
        var codes = new MemoryStream();
        for (int r = 0; r < n; r++)
        {
            var row = chunk.Row(r);
            var h = QuantizedChunk.ReadHeader(row);
            int trailer = QuantizedChunk.TrailerBytes(settings);
            heads.Write(row[..QuantizedChunk.RowHeaderBytes]);
            heads.Write(row[^trailer..]);
            int o = QuantizedChunk.RowHeaderBytes;
            if (h.Count > 0) for (int k = 0; k < h.Count; k++) Varint.Read(row, ref o);
            gaps.Write(row[QuantizedChunk.RowHeaderBytes..o]);
            codes.Write(row[o..^trailer]);
        }
        foreach (int quality in new[] { 4, 3, 2, 1, 0 })
        {
            long total = 0;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            foreach (var stream in new[] { heads, gaps, codes }) total += BrotliAt(stream, quality);
            Console.WriteLine($"  split streams, Brotli quality {quality}: {total / (double)n:F0} B/row (headers {BrotliAt(heads, quality) / (double)n:F0}, ids {BrotliAt(gaps, quality) / (double)n:F0}, codes {BrotliAt(codes, quality) / (double)n:F0}), compression {clock.Elapsed.TotalMilliseconds / n:F3} ms/row");
        }
    }

    private static long BrotliAt(MemoryStream stream, int quality)
    {
        var raw = stream.GetBuffer().AsSpan(0, (int)stream.Length);
        var output = new byte[BrotliEncoder.GetMaxCompressedLength(raw.Length)];
        using var brotli = new BrotliEncoder(quality, QuantizedChunk.BrotliWindow);
        brotli.Compress(raw, output, out _, out int written, isFinalBlock: true);
        return written;
    }

    /// <summary>
    /// The rows' shapes against their cost under the default settings: per threshold of the kept share of the vocabulary
    /// (at the default ε) and of the entropy, the share of rows and of raw encoded bytes above it — what a per-row rule
    /// that refines such rows would touch.
    /// </summary>
    private static void Shape(float[] rows, int n, int vocab)
    {
        var settings = QuantizedRowSettings.Default;
        var selector = new QuantizedRowSelector(settings.TailMass);
        var encoder = new QuantizedChunkEncoder(settings, vocab);
        var kept = new double[n];
        var entropy = new double[n];
        var bytes = new double[n];
        for (int r = 0; r < n; r++)
        {
            var row = rows.AsSpan(r * vocab, vocab);
            float max = System.Numerics.Tensors.TensorPrimitives.Max(row);
            selector.Select(row, max);
            kept[r] = selector.Count / (double)vocab;
            double z = 0, s = 0;
            foreach (float x in row) { double e = Math.Exp(x - max); z += e; s += e * (x - max); }
            entropy[r] = Math.Log(z) - s / z;
            encoder.Add(row, -1);
            bytes[r] = encoder.Finish().Length;
        }
        foreach (var (name, candidate) in new[] { ("compact-3", QuantizedRowSettings.Compact3), ("compact-4 default", QuantizedRowSettings.Default) })
        {
            var whole = new QuantizedChunkEncoder(candidate, vocab);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (int r = 0; r < n; r++) whole.Add(rows.AsSpan(r * vocab, vocab), -1);
            long size = whole.Finish().Length;
            Console.WriteLine($"{name}: the chunk as one blob {size / (double)n:F0} B/row, fine-tier rows {whole.FineRows}, {clock.Elapsed.TotalMilliseconds / n:F2} ms/row");
        }
        double total = bytes.Sum();
        Console.WriteLine($"bytes per row (each row its own Brotli blob) mean {total / n:F0}; entropy median {entropy.Order().ElementAt(n / 2):F2}, kept share median {kept.Order().ElementAt(n / 2):F3}");
        foreach (double f in new[] { 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9 })
        {
            var on = Enumerable.Range(0, n).Where(r => kept[r] >= f).ToArray();
            Console.WriteLine($"  kept share ≥ {f:F2}: {on.Length * 100.0 / n:F1} % of rows, {on.Sum(r => bytes[r]) * 100 / total:F1} % of bytes");
        }
        foreach (double h in new[] { 3.0, 4.0, 5.0, 6.0, 7.0, 8.0 })
        {
            var on = Enumerable.Range(0, n).Where(r => entropy[r] >= h).ToArray();
            Console.WriteLine($"  entropy ≥ {h:F1} nats: {on.Length * 100.0 / n:F1} % of rows, {on.Sum(r => bytes[r]) * 100 / total:F1} % of bytes");
        }
    }

    private static int Code(double p, double logP, double rho, double step, double knee2, double step2)
    {
        double knee = rho / step;
        if (p >= knee) return (int)Math.Max(1, Math.Round(p / rho));
        if (p >= knee2 || knee2 == 0) return -1 - (int)Math.Round((Math.Log(knee) - logP) / step);
        int atKnee2 = (int)Math.Round((Math.Log(knee) - Math.Log(knee2)) / step);
        return -1 - atKnee2 - (int)Math.Round((Math.Log(knee2) - logP) / step2);
    }

    private static double LogChoose(int n, int k)
    {
        double s = 0;
        for (int i = 0; i < k; i++) s += Math.Log(n - i) - Math.Log(i + 1);
        return s;
    }

    private static long Brotli(MemoryStream stream)
    {
        var raw = stream.GetBuffer().AsSpan(0, (int)stream.Length);
        var output = new byte[BrotliEncoder.GetMaxCompressedLength(raw.Length)];
        using var brotli = new BrotliEncoder(QuantizedChunk.BrotliQuality, QuantizedChunk.BrotliWindow);
        brotli.Compress(raw, output, out _, out int written, isFinalBlock: true);
        return written;
    }
}
