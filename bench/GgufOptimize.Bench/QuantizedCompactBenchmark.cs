using System.Diagnostics;
using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Metrics;
using GgufOptimize.Quantization;
using GgufOptimize.Storage.Formats.Compact;
using GgufOptimize.Synthetic;

namespace GgufOptimize.Bench;

/// <summary>
/// The quantized compact encoding against exact float32 KLD (issue 13): for realistic and flat synthetic models at
/// several vocabularies and the real model in ../shared, each against Q8_0 … Q2_K quantizations of itself, prints per
/// encoding setting: bytes per position, worst relative error over the statistics, worst error / 95 % bootstrap
/// half-width, flipped paired decisions between consecutive targets, and bound violations (must be 0). Also the CPU
/// time of encoding against a bare decode of the baseline, and of decoding+scoring against exact scoring.
/// </summary>
public sealed class QuantizedCompactBenchmark : IBenchmark
{
    public string Name => "qcompact";
    public string Description => "quantized compact encoding: size, error vs CI, decision flips [--vocabs 32000,128256,262144] [--kinds realistic,flat] [--types Q8_0,Q6_K,Q4_K_M,Q4_0,Q3_K_M,Q2_K] [--ctx 512] [--chunks 4] [--aidreams 1] [--settings 'ε,ρ,Δ[,knee₂,Δ₂];…']; --reader 1 [--rounds 2]: kld --target-model (first --types) with a compact baseline against a full float32 one (same run, alternating); --writer 1 [--rounds 2] [--profile 1] [--embd N] [--modes bare,fetch,compact,compact-serial,full] [--warmup 1]: CPU and wall time of logits --format compact (through the write queue, and stored between decodes as a CPU-only run does) against a bare decode and --format full (same run, modes rotated each round; each mode's per-round ratio to the bare decode of the same round, with a 95 % interval)";

    private static QuantizedRowSettings[] Settings =
    [
        QuantizedRowSettings.Default,
        new(1e-3, 1e-6, 0.1),
        new(1e-5, 1e-7, 0.05),
    ];

    private static readonly (string Name, Func<KldStatistics, double> Get)[] Stats =
    [
        ("mean", s => s.Average), ("median", s => s.Median), ("KLD_90", s => s.KLD_90), ("KLD_95", s => s.KLD_95),
        ("KLD_99", s => s.KLD_99), ("Score", s => s.Score), ("PPL ratio", s => s.PPL_ratio), ("same-top", s => s.Same_top_p),
    ];

    public int Run(string[] args)
    {
        var a = new BenchArgs(args);
        // --settings "ε,ρ,Δ[,second knee,Δ₂][/fine ε,ρ,Δ[,knee₂,Δ₂]/wide share];…": the encodings to compare (default: the
        // three below); "default" and "compact3" name those settings.
        if (a.Get("settings") is { } list)
            Settings = list.Split(';').Select(ParseSettings).ToArray();
        var vocabs = (a.Get("vocabs") ?? "32000,128256,262144").Split(',').Select(int.Parse).ToArray();
        var kinds = (a.Get("kinds") ?? "realistic,flat").Split(',');
        var types = (a.Get("types") ?? "Q8_0,Q6_K,Q4_K_M,Q4_0,Q3_K_M,Q2_K").Split(',');
        int ctx = a.Int("ctx", 512), chunks = a.Int("chunks", 4);
        string dir = Path.Combine(a.Get("dir") ?? Path.GetTempPath(), $"ggufopt-qcompact-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            NativeRuntime.Initialize();
            if (a.Int("reader", 0) == 1)
            {
                foreach (int vocab in vocabs)
                    ReaderCost(vocab, ctx, chunks, a.Int("rounds", 2), types[0], dir);
                return 0;
            }
            if (a.Int("writer", 0) == 1)
            {
                foreach (int vocab in vocabs)
                    foreach (string kind in kinds)
                        WriterCost(kind, vocab, ctx, chunks, a.Int("rounds", 2), a.Int("profile", 0) == 1, a.Int("embd", 0), dir,
                            (a.Get("modes") ?? "bare,fetch,compact,compact-serial,full").Split(',', StringSplitOptions.RemoveEmptyEntries), a.Int("warmup", 1) == 1);
                return 0;
            }
            Console.WriteLine($"load at start: {File.ReadAllText("/proc/loadavg").Trim()} (2 cores shared with other work); ctx {ctx}, {chunks} chunks");
            Console.WriteLine("| model | vocab | target | encoding | bytes/pos | % of .kld | worst rel err | worst err / CI half-width (64-position blocks) | flips | bound violations |");
            Console.WriteLine("|---|---:|---|---|---:|---:|---:|---:|---:|---:|");
            if (a.Int("aidreams", 1) == 1 && SharedFolder.Find() is { } shared)
            {
                string model = Path.Combine(shared, "models", "aidreams260K-f32.gguf");
                string text = File.ReadAllText(Path.Combine(shared, "data", "aidreams-samples.txt"));
                Study("aidreams260K", model, types.Where(t => !t.Contains('K')).ToArray(), text, 128, 4 * chunks, dir);
            }
            foreach (int vocab in vocabs)
                foreach (string kind in kinds)
                {
                    var options = kind == "flat" ? SyntheticModelOptions.Flat(vocab) : SyntheticModelOptions.Realistic(vocab);
                    string model = Path.Combine(dir, $"{kind}-{vocab}.gguf");
                    SyntheticModel.Write(model, options with { ContextLength = ctx });
                    string text = SyntheticVocabulary.Build(vocab).RandomWords(chunks * ctx + 256, 5);
                    Study($"{kind} synthetic", model, types, text, ctx, chunks, dir);
                    foreach (var f in Directory.GetFiles(dir)) File.Delete(f);
                }
            Console.WriteLine($"load at end: {File.ReadAllText("/proc/loadavg").Trim()}");
            return 0;
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    private static QuantizedRowSettings ParseSettings(string text)
    {
        if (text == "default") return QuantizedRowSettings.Default;
        if (text == "compact3") return QuantizedRowSettings.Compact3;
        static QuantizedRowSettings Mapping(string x)
        {
            var v = x.Split(',').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            return new QuantizedRowSettings(v[0], v[1], v[2], v.Length > 3 ? v[3] : 0, v.Length > 4 ? v[4] : 0);
        }
        var parts = text.Split('/');
        var settings = Mapping(parts[0]);
        return parts.Length == 3 ? settings with { Fine = Mapping(parts[1]), WideShare = double.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture) } : settings;
    }

    private static void Study(string title, string baseline, string[] types, string text, int ctx, int maxChunks, string dir)
    {
        var targets = types.Select(t => (Type: t, Path: Quantize(baseline, t, dir))).ToArray();
        using var baseModel = LlamaModel.Load(baseline);
        int vocab = baseModel.VocabSize;
        var plan = ChunkPlan.ForModel(baseModel.Tokenize(text), ctx, baseModel.AddBos, baseModel.Bos, baseModel.AddEos, baseModel.Eos);
        int chunks = Math.Min(maxChunks, plan.ChunkCount);
        using var baseEval = new LlamaEvaluator(baseModel, new EvaluatorOptions { ContextSize = ctx });
        var models = targets.Select(t => LlamaModel.Load(t.Path)).ToArray();
        var evals = models.Select(m => new LlamaEvaluator(m, new EvaluatorOptions { ContextSize = ctx })).ToArray();
        try
        {
            int s = Settings.Length, t = targets.Length;
            var exact = Enumerable.Range(0, t).Select(_ => new List<ChunkResult>()).ToArray();
            var encoded = Enumerable.Range(0, t).Select(_ => Enumerable.Range(0, s).Select(_ => new List<ChunkResult>()).ToArray()).ToArray();
            var encoders = Settings.Select(x => new QuantizedChunkEncoder(x, vocab)).ToArray();
            var decodedChunks = Settings.Select(_ => new QuantizedChunk()).ToArray();
            var bytes = new long[s];
            var violations = new long[s, t];
            var worstBoundUse = new double[s];
            long positions = 0;
            double bareSeconds = 0, encodeSeconds = 0, exactScoreSeconds = 0, encodedScoreSeconds = 0;
            var p = new float[ctx * vocab];
            var q = new float[ctx * vocab];
            var ids = new int[vocab];
            var logP = new double[vocab];
            var scratch = new float[vocab];
            var clock = new Stopwatch();
            for (int c = 0; c < chunks; c++)
            {
                var tokens = plan.Chunk(c);
                int n = tokens.Length;
                clock.Restart();
                baseEval.DecodeOnly(tokens);
                bareSeconds += clock.Elapsed.TotalSeconds;
                baseEval.EvaluateChunk(tokens, p.AsSpan(0, n * vocab));
                for (int e = 0; e < s; e++)
                {
                    clock.Restart();
                    for (int j = 0; j < n; j++) encoders[e].Add(p.AsSpan(j * vocab, vocab), j + 1 < n ? tokens[j + 1] : -1);
                    var blob = encoders[e].Finish();
                    if (e == 0) encodeSeconds += clock.Elapsed.TotalSeconds;
                    bytes[e] += blob.Length;
                    decodedChunks[e].Load(blob);
                }
                positions += n;
                for (int k = 0; k < t; k++)
                {
                    evals[k].EvaluateChunk(tokens, q.AsSpan(0, n * vocab));
                    var exactBuilder = new ChunkResultBuilder(c, n - 1);
                    var builders = Enumerable.Range(0, s).Select(_ => new ChunkResultBuilder(c, n - 1)).ToArray();
                    var exactKld = new double[n - 1];
                    clock.Restart();
                    for (int j = 0; j < n - 1; j++)
                    {
                        var r = LogitComparer.Compare(p.AsSpan(j * vocab, vocab), q.AsSpan(j * vocab, vocab), tokens[j + 1]);
                        exactBuilder.Add(r);
                        exactKld[j] = r.Kld;
                    }
                    exactScoreSeconds += clock.Elapsed.TotalSeconds;
                    for (int e = 0; e < s; e++)
                    {
                        clock.Restart();
                        for (int j = 0; j < n - 1; j++)
                        {
                            var row = decodedChunks[e].Row(j);
                            var h = QuantizedChunk.ReadHeader(row);
                            bool dense = h.Count is QuantizedChunk.Dense or QuantizedChunk.AllCodes;
                            int count = dense ? vocab : 0;
                            if (dense) QuantizedChunk.DecodeDense(row, vocab, Settings[e], logP);
                            else if (h.Count > 0) count = QuantizedChunk.DecodeSparse(row, Settings[e], ids, logP);
                            var compared = SparseLogProbComparer.Compare(ids.AsSpan(0, dense ? 0 : count), dense, logP.AsSpan(0, count), h.TailMass,
                                h.NextLogit - h.LogNorm, h.Top, q.AsSpan(j * vocab, vocab), tokens[j + 1], scratch);
                            builders[e].Add(compared.IsValid ? compared with { Kld = compared.Kld + QuantizedChunk.Correction(row, Settings[e]) } : compared);
                        }
                        if (e == 0) encodedScoreSeconds += clock.Elapsed.TotalSeconds;
                        var built = builders[e].Build();
                        encoded[k][e].Add(built);
                        for (int j = 0; j < n - 1; j++)
                        {
                            double bound = QuantizedErrorBound.Of(Settings[e].MaxTailMass, encoders[e].MaxTotalVariation, encoders[e].MaxDecodedDivergence,
                                QuantizedErrorBound.LogRatioSpread(p.AsSpan(j * vocab, vocab), q.AsSpan(j * vocab, vocab)));
                            double err = Math.Abs(built.Kld[j] - exactKld[j]);
                            if (err > bound * (1 + 1e-9) + 1e-12) violations[e, k]++;
                            if (bound > 0) worstBoundUse[e] = Math.Max(worstBoundUse[e], err / bound);
                        }
                    }
                    exact[k].Add(exactBuilder.Build());
                }
            }

            double kldBytes = 2.0 * (2 * ((vocab + 1) / 2) + 4);
            var bootstrap = new BootstrapOptions(Resamples: 400);
            for (int k = 0; k < t; k++)
            {
                var exactStats = KldStatistics.Compute(exact[k]);
                var halfWidths = HalfWidths(Blocks(exact[k]), 1000);
                for (int e = 0; e < s; e++)
                {
                    var st = KldStatistics.Compute(encoded[k][e]);
                    double worstRel = 0, worstCi = 0;
                    string relName = "", ciName = "";
                    foreach (var (name, get) in Stats)
                    {
                        double x = get(exactStats), y = get(st);
                        if (x != 0 && Math.Abs(y - x) / Math.Abs(x) > worstRel) (worstRel, relName) = (Math.Abs(y - x) / Math.Abs(x), name);
                        if (halfWidths[name] > 0 && Math.Abs(y - x) / halfWidths[name] > worstCi) (worstCi, ciName) = (Math.Abs(y - x) / halfWidths[name], name);
                    }
                    int flips = 0;
                    for (int other = 0; other < t; other++)
                    {
                        if (other == k) continue;
                        var de = Decision(BlockBootstrap.Paired(Blocks(exact[k]), Blocks(exact[other]), bootstrap));
                        var dd = Decision(BlockBootstrap.Paired(Blocks(encoded[k][e]), Blocks(encoded[other][e]), bootstrap));
                        if (de != dd) flips++;
                    }
                    Console.WriteLine($"| {title} | {vocab} | {targets[k].Type} | {Settings[e].Describe()} | {bytes[e] / (double)positions:F0} | {bytes[e] / (double)positions / kldBytes * 100:F2} % | {worstRel * 100:F4} % ({relName}) | {worstCi:F4} ({ciName}) | {flips} | {violations[e, k]} |");
                }
            }
            Console.WriteLine($"<!-- {title} vocab {vocab}: {chunks} chunks x {ctx}, {positions} positions; dense rows {string.Join("/", encoders.Select(x => x.DenseRows))}; fine-tier rows {string.Join("/", encoders.Select(x => x.FineRows))}; τ {string.Join("/", encoders.Select(x => x.MaxTotalVariation.ToString("G3")))}, κ {string.Join("/", encoders.Select(x => x.MaxDecodedDivergence.ToString("G3")))}; worst error/bound {string.Join("/", worstBoundUse.Select(x => x.ToString("G3")))}; CPU: encode {encodeSeconds / bareSeconds * 100:F1} % of bare decode, decode+score {encodedScoreSeconds / exactScoreSeconds * 100:F0} % of exact scoring (load {File.ReadAllText("/proc/loadavg").Trim()}) -->");
        }
        finally
        {
            foreach (var e in evals) e.Dispose();
            foreach (var m in models) m.Dispose();
        }
    }

    /// <summary>
    /// Chunks cut into blocks of 64 positions, so a bootstrap over a few long chunks still has enough blocks to resample
    /// (context correlation is short next to 64 positions in these models). Every statistic of the blocks together
    /// equals that of the chunks.
    /// </summary>
    private static List<ChunkResult> Blocks(List<ChunkResult> chunks)
    {
        const int size = 64;
        var blocks = new List<ChunkResult>();
        foreach (var c in chunks)
            for (int start = 0; start < c.Count; start += size)
            {
                int n = Math.Min(size, c.Count - start);
                blocks.Add(new ChunkResult(blocks.Count, c.Kld[start..(start + n)], c.DeltaP[start..(start + n)], c.SameTop[start..(start + n)],
                    c.LogProbBase[start..(start + n)], c.LogProbTarget[start..(start + n)], 0));
            }
        return blocks;
    }

    private static int Decision(PairedScoreComparison c) => c.DifferenceLower > 0 ? 1 : c.DifferenceUpper < 0 ? -1 : 0;

    /// <summary>95 % percentile-bootstrap half-width of each statistic, chunks as blocks.</summary>
    private static Dictionary<string, double> HalfWidths(List<ChunkResult> chunks, int resamples)
    {
        var rng = new Random(17);
        var values = Stats.ToDictionary(x => x.Name, _ => new List<double>());
        for (int b = 0; b < resamples; b++)
        {
            var sample = Enumerable.Range(0, chunks.Count).Select(_ => chunks[rng.Next(chunks.Count)]).ToList();
            var st = KldStatistics.Compute(sample);
            foreach (var (name, get) in Stats) values[name].Add(get(st));
        }
        return values.ToDictionary(kv => kv.Key, kv =>
        {
            var v = kv.Value.Order().ToList();
            return (v[(int)(0.975 * (v.Count - 1))] - v[(int)(0.025 * (v.Count - 1))]) / 2;
        });
    }

    private static string Quantize(string model, string type, string dir)
    {
        var outcome = ModelQuantizer.Run(new QuantizeOptions
        {
            ModelPath = model, OutputDirectory = dir, Types = [QuantizationTypes.Parse(type)], Name = Path.GetFileNameWithoutExtension(model),
        }, NullProgress.Instance).Single();
        return outcome.OutputPath;
    }

    /// <summary>
    /// The logits job's inner loop (decode, hand the rows to the write queue, the writer encodes and stores them on its
    /// own thread) for --format compact and --format full, against a bare decode of the same chunks; alternating
    /// rounds, wall and process CPU time each, load average before and after. Fixed costs of a run (model load, hashing,
    /// tokenizing) are left out: they are the same for every format.
    /// </summary>
    private static void WriterCost(string kind, int vocab, int ctx, int chunks, int rounds, bool profile, int embd, string dir, string[] modes, bool warmup)
    {
        var options = kind == "flat" ? SyntheticModelOptions.Flat(vocab) : SyntheticModelOptions.Realistic(vocab);
        // --embd: a real model's width (4096 for Llama 3 8B) with the preset's two layers: a decode then costs about a ninth
        // of an 8B model's (its output layer plus two layers of 32), a lower bound for the encoder's share at a real width.
        if (embd > 0) options = options with { EmbeddingLength = embd, HeadCount = Math.Max(1, embd / 128), FeedForwardLength = 2 * embd };
        string model = Path.Combine(dir, $"{kind}-{vocab}.gguf");
        SyntheticModel.Write(model, options with { ContextLength = ctx });
        string text = SyntheticVocabulary.Build(vocab).RandomWords(chunks * ctx + 256, 5);
        using var llama = LlamaModel.Load(model);
        var plan = ChunkPlan.ForModel(llama.Tokenize(text), ctx, llama.AddBos, llama.Bos, llama.AddEos, llama.Eos);
        int n = Math.Min(chunks, plan.ChunkCount);
        long tokens = Enumerable.Range(0, n).Sum(c => (long)plan.ChunkLength(c));
        using var evaluator = new LlamaEvaluator(llama, new EvaluatorOptions { ContextSize = ctx });
        var header = new GgufOptimize.Storage.BaselineHeader
        {
            ContextSize = ctx, VocabSize = vocab, TotalChunks = plan.ChunkCount, Precision = 32, Model = ModelIdentity.Of(model), DatasetFile = "text",
            DatasetSha256 = new string('0', 64), TokenizerSha256 = llama.TokenizerFingerprint(), AddBos = plan.Bos.HasValue, AddEos = plan.Eos.HasValue,
        };
        evaluator.DecodeOnly(plan.Chunk(0));
        Console.WriteLine($"writer cost, {kind} synthetic vocab {vocab}, n_embd {options.EmbeddingLength}, {options.LayerCount} layers: {n} chunks × {ctx} = {tokens} tokens; load {File.ReadAllText("/proc/loadavg").Trim()}");
        var process = Process.GetCurrentProcess();
        (double Wall, double Cpu) Measure(Action run)
        {
            process.Refresh();
            var cpu = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            run();
            process.Refresh();
            return (clock.Elapsed.TotalSeconds, (process.TotalProcessorTime - cpu).TotalSeconds);
        }
        void Pipeline(GgufOptimize.Storage.Formats.IBaselineWriter writer)
        {
            using (writer)
            {
                using var queue = new GgufOptimize.Storage.Formats.LogitsWriteQueue(writer, vocab);
                for (int c = 0; c < n; c++)
                {
                    evaluator.EvaluateChunk(plan.Chunk(c), (first, logits) => queue.Add(c, first, logits));
                    queue.EndChunk(c);
                }
                queue.Finish();
                writer.Complete(0, n);
            }
        }
        // The same writer called on the decode thread, no queue: encoding never overlaps a decode (nor competes with
        // its threads for the cores), the shape a CPU-only run could take.
        void Serial(GgufOptimize.Storage.Formats.IBaselineWriter writer)
        {
            using (writer)
            {
                for (int c = 0; c < n; c++)
                {
                    evaluator.EvaluateChunk(plan.Chunk(c), (first, logits) => writer.WriteLogits(c, first, logits));
                    writer.MarkProcessed(c);
                }
                writer.Complete(0, n);
            }
        }
        if (profile)
        {
            // Where the encoder's time goes, single-threaded on one chunk held in memory: row encoding vs Brotli per quality.
            var rows = new float[plan.ChunkLength(0) * (long)vocab];
            evaluator.EvaluateChunk(plan.Chunk(0), rows);
            var tokens0 = plan.Chunk(0);
            foreach (int quality in new[] { 5, 4, 3, 2 })
            {
                var encoder = new QuantizedChunkEncoder(QuantizedRowSettings.Default, vocab) { BrotliQuality = quality, CodesBrotliQuality = quality };
                var clock = Stopwatch.StartNew();
                for (int j = 0; j < tokens0.Length; j++) encoder.Add(rows.AsSpan(j * vocab, vocab), j + 1 < tokens0.Length ? tokens0[j + 1] : -1);
                double add = clock.Elapsed.TotalSeconds;
                clock.Restart();
                int bytes = encoder.Finish().Length;
                double finish = clock.Elapsed.TotalSeconds;
                Console.WriteLine($"  encoder, Brotli quality {quality}: rows {add * 1e3 / tokens0.Length:F3} ms/row, compression {finish * 1e3 / tokens0.Length:F3} ms/row, {bytes / (double)tokens0.Length:F0} bytes/position");
            }
        }
        if (!modes.Contains("bare")) throw new ArgumentException("--modes must include bare (every ratio is to it)");
        long compactBytes = 0;
        void RunMode(string name)
        {
            string output = Path.Combine(dir, $"w-{name}.h5");
            switch (name)
            {
                case "bare": for (int c = 0; c < n; c++) evaluator.DecodeOnly(plan.Chunk(c)); break;
                // Every row handed over and dropped: what getting the logits out costs before any format sees them.
                case "fetch": for (int c = 0; c < n; c++) evaluator.EvaluateChunk(plan.Chunk(c), (_, _) => { }); break;
                case "compact": Pipeline(QuantizedBaselineWriter.OpenOrCreate(output, header with { TotalChunks = n }, plan, QuantizedRowSettings.Default, true, NullProgress.Instance)); break;
                case "compact-serial": Serial(QuantizedBaselineWriter.OpenOrCreate(output, header with { TotalChunks = n }, plan, QuantizedRowSettings.Default, true, NullProgress.Instance)); break;
                case "full": Pipeline(GgufOptimize.Storage.BaselineLogitsFile.OpenOrCreate(output, header with { TotalChunks = n }, plan, true, NullProgress.Instance, chunksToWrite: n)); break;
                default: throw new ArgumentException($"unknown mode '{name}' (bare, fetch, compact, compact-serial, full)");
            }
            if (name is "compact" or "compact-serial") compactBytes = new FileInfo(output).Length;
            foreach (var f in Directory.GetFiles(dir, "w-*")) File.Delete(f);
        }
        // One untimed pass of every mode first: the rounds then measure the steady state of a long run, not the first
        // use of each code path (its compilation is a per-run constant, measured apart in the `logits` bench's jit step).
        if (warmup) foreach (string name in modes) RunMode(name);
        var sums = new Dictionary<string, (double Wall, double Cpu)>();
        var perRound = modes.ToDictionary(m => m, _ => new List<(double Wall, double Cpu)>());
        for (int r = 0; r < rounds; r++)
        {
            // The order rotates each round: this VM's speed drifts over minutes, and a fixed order charged the drift
            // to whichever mode came last.
            foreach (string name in modes.Skip(r % modes.Length).Concat(modes.Take(r % modes.Length)))
            {
                var m = Measure(() => RunMode(name));
                sums[name] = sums.TryGetValue(name, out var s) ? (s.Wall + m.Wall, s.Cpu + m.Cpu) : m;
                perRound[name].Add(m);
                Console.WriteLine($"  round {r + 1} {name}: wall {m.Wall:F2} s, process CPU {m.Cpu:F2} s");
            }
        }
        var bare = sums["bare"];
        foreach (string name in modes.Where(m => m != "bare"))
        {
            Console.WriteLine($"  {name}: wall {sums[name].Wall / rounds:F2} s = {(sums[name].Wall / bare.Wall - 1) * 100:+0.0;-0.0} % over bare decode ({bare.Wall / rounds:F2} s); " +
                              $"CPU {sums[name].Cpu / rounds:F2} s = {(sums[name].Cpu / bare.Cpu - 1) * 100:+0.0;-0.0} % over bare decode's {bare.Cpu / rounds:F2} s");
            Console.WriteLine($"    per round over the same round's bare decode: wall {PairedRatio.Describe(perRound[name].Select(x => x.Wall), perRound["bare"].Select(x => x.Wall))}; " +
                              $"CPU {PairedRatio.Describe(perRound[name].Select(x => x.Cpu), perRound["bare"].Select(x => x.Cpu))}");
        }
        if (sums.TryGetValue("compact", out var compact) && sums.TryGetValue("fetch", out var fetch))
            Console.WriteLine($"  compact over fetch (the encoder's own share, wall): {(compact.Wall / fetch.Wall - 1) * 100:+0.0;-0.0} %, CPU {(compact.Cpu / fetch.Cpu - 1) * 100:+0.0;-0.0} %");
        Console.WriteLine($"  compact file: {compactBytes} bytes, {compactBytes / (double)tokens:F0} bytes per position; load {File.ReadAllText("/proc/loadavg").Trim()}");
        File.Delete(model);
    }

    /// <summary>
    /// The read path (issue 13 point 4): <c>kld --target-model</c> on the realistic model's quantization with a compact
    /// baseline against the same with the full float32 baseline of the same chunks; alternating rounds, wall and process
    /// CPU time of each KldJob run (the target's decode included, as users run it).
    /// </summary>
    private static void ReaderCost(int vocab, int ctx, int chunks, int rounds, string type, string dir)
    {
        string model = Path.Combine(dir, $"realistic-{vocab}.gguf");
        SyntheticModel.Write(model, SyntheticModelOptions.Realistic(vocab) with { ContextLength = ctx });
        string text = Path.Combine(dir, "text.txt");
        File.WriteAllText(text, SyntheticVocabulary.Build(vocab).RandomWords(chunks * ctx + 256, 5));
        string target = Quantize(model, type, dir);
        string full = Path.Combine(dir, "full.h5"), compact = Path.Combine(dir, "compact.h5");
        GgufOptimize.Logits.LogitsJob.Run(new GgufOptimize.Logits.LogitsJobOptions { ModelPath = model, DatasetPath = text, OutputPath = full, ContextSize = ctx, ToChunk = chunks }, NullProgress.Instance, default);
        GgufOptimize.Logits.LogitsJob.Run(new GgufOptimize.Logits.LogitsJobOptions { ModelPath = model, DatasetPath = text, OutputPath = compact, ContextSize = ctx, ToChunk = chunks, Format = GgufOptimize.Logits.LogitsFormat.QuantizedCompact }, NullProgress.Instance, default);
        Console.WriteLine($"read path, realistic synthetic vocab {vocab}, target {type}: {chunks} chunks × {ctx}; full {new FileInfo(full).Length / 1e6:F0} MB, compact {new FileInfo(compact).Length / 1e6:F1} MB; load {File.ReadAllText("/proc/loadavg").Trim()}");
        var process = Process.GetCurrentProcess();
        var sums = new Dictionary<string, (double Wall, double Cpu)>();
        var averages = new Dictionary<string, double>();
        for (int r = 0; r < rounds; r++)
            foreach (var (name, baseline) in new[] { ("full", full), ("compact", compact) })
            {
                string output = Path.Combine(dir, $"kld-{name}.h5");
                process.Refresh();
                var cpu = process.TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                var result = GgufOptimize.Kld.KldJob.Run(new GgufOptimize.Kld.KldJobOptions { BaselineLogits = baseline, TargetModel = target, OutputFile = output, Clobber = true }, NullProgress.Instance, default);
                double wall = clock.Elapsed.TotalSeconds;
                process.Refresh();
                double used = (process.TotalProcessorTime - cpu).TotalSeconds;
                averages[name] = result.Overall.Average;
                File.Delete(output);
                sums[name] = sums.TryGetValue(name, out var s) ? (s.Wall + wall, s.Cpu + used) : (wall, used);
                Console.WriteLine($"  round {r + 1} kld --target-model, {name} baseline: wall {wall:F2} s, process CPU {used:F2} s (load {File.ReadAllText("/proc/loadavg").Trim()})");
            }
        var f = sums["full"];
        var c = sums["compact"];
        Console.WriteLine($"  compact baseline over full: wall {(c.Wall / f.Wall - 1) * 100:+0.0;-0.0} %, CPU {(c.Cpu / f.Cpu - 1) * 100:+0.0;-0.0} % (full {f.Wall / rounds:F2} s / {f.Cpu / rounds:F2} s CPU per run); mean KLD {averages["compact"]:G6} vs {averages["full"]:G6}");
        foreach (var file in Directory.GetFiles(dir)) File.Delete(file);
    }
}
