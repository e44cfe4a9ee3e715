using GgufOptimize.Common;
using GgufOptimize.Kld;
using GgufOptimize.Logits;
using GgufOptimize.Storage.Formats;
using GgufOptimize.Storage.Formats.Compact;
using GgufOptimize.Tests.Storage.Hdf5;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Storage.Formats;

public class CompactFormatTests
{
    private static LogitsJobOptions Options(TempDir tmp, string output, LogitsFormat format, double tailMass = 1e-4, int? to = null) => new()
    {
        ModelPath = SharedAssets.AidreamsModel, DatasetPath = FormatFixtures.Text(tmp), OutputPath = tmp.File(output), Format = format, TailMass = tailMass, ToChunk = to,
    };

    /// <summary>
    /// On the real model against its Q4_0: kld through the compact file gives every per-token KLD within the bound
    /// (never above the exact value, below it by little), and exactly the same log-probabilities, Δp and top-1 agreement.
    /// </summary>
    [SkippableFact]
    public void Kld_from_a_compact_file_matches_the_full_computation_within_the_bound()
    {
        using var tmp = new TempDir();
        string target = FormatFixtures.Quantized(tmp);
        LogitsJob.Run(Options(tmp, "full.h5", LogitsFormat.Full), NullProgress.Instance, default);
        LogitsJob.Run(Options(tmp, "compact.h5", LogitsFormat.Compact), NullProgress.Instance, default);
        Assert.False(File.Exists(tmp.File("compact.h5.partial")));
        Assert.Equal(StoredLogitsKind.Compact, StoredBaselines.Detect(tmp.File("compact.h5")));

        var exact = KldJob.Run(new KldJobOptions { BaselineLogits = tmp.File("full.h5"), TargetModel = target, OutputFile = tmp.File("a.h5") }, NullProgress.Instance, default);
        var compact = KldJob.Run(new KldJobOptions { BaselineLogits = tmp.File("compact.h5"), TargetModel = target, OutputFile = tmp.File("b.h5") }, NullProgress.Instance, default);
        Assert.Equal(exact.Chunks.Count, compact.Chunks.Count);
        for (int c = 0; c < exact.Chunks.Count; c++)
        {
            var e = exact.Chunks[c];
            var k = compact.Chunks[c];
            Assert.Equal(e.SameTop, k.SameTop);
            for (int i = 0; i < e.Count; i++)
            {
                Assert.True(k.Kld[i] <= e.Kld[i] * (1 + 1e-6) + 1e-9, $"chunk {c} token {i}: compact {k.Kld[i]} above exact {e.Kld[i]}");
                Assert.True(e.Kld[i] - k.Kld[i] <= 1e-4 * 20 + 1e-7, $"chunk {c} token {i}: error {e.Kld[i] - k.Kld[i]}");
                Assert.Equal(e.LogProbBase[i], k.LogProbBase[i], 1e-6);
                Assert.Equal(e.LogProbTarget[i], k.LogProbTarget[i], 1e-6);
                Assert.Equal(e.DeltaP[i], k.DeltaP[i], 1e-6);
            }
        }
        foreach (var (name, a, b) in new[]
                 {
                     ("mean", exact.Overall.Average, compact.Overall.Average), ("median", exact.Overall.Median, compact.Overall.Median),
                     ("p90", exact.Overall.KLD_90, compact.Overall.KLD_90), ("p95", exact.Overall.KLD_95, compact.Overall.KLD_95),
                     ("p99", exact.Overall.KLD_99, compact.Overall.KLD_99), ("score", exact.Overall.Score, compact.Overall.Score),
                 })
            Assert.True(Math.Abs(b - a) <= 1e-3 * a, $"{name}: compact {b} vs exact {a}");
    }

    /// <summary>The bound on real distributions: the real model against its Q4_0, every position of two chunks, ε = 1e-3 and 1e-2.</summary>
    [SkippableFact]
    public void The_bound_holds_on_the_real_models_distributions()
    {
        using var tmp = new TempDir();
        string target = FormatFixtures.Quantized(tmp);
        using var baseModel = GgufOptimize.Engine.LlamaModel.Load(SharedAssets.AidreamsModel);
        using var targetModel = GgufOptimize.Engine.LlamaModel.Load(target);
        var plan = GgufOptimize.Chunking.ChunkPlan.ForModel(baseModel.Tokenize(File.ReadAllText(FormatFixtures.Text(tmp))), 128, baseModel.AddBos, baseModel.Bos, baseModel.AddEos, baseModel.Eos);
        using var be = new GgufOptimize.Engine.LlamaEvaluator(baseModel, new() { ContextSize = 128 });
        using var te = new GgufOptimize.Engine.LlamaEvaluator(targetModel, new() { ContextSize = 128 });
        int vocab = baseModel.VocabSize, tight = 0;
        var p = new float[128 * vocab];
        var q = new float[128 * vocab];
        var scratch = new float[vocab];
        foreach (double epsilon in new[] { 1e-3, 1e-2 })
        {
            var encoder = new CompactRowEncoder(epsilon);
            var chunk = new CompactChunk();
            for (int c = 0; c < 2; c++)
            {
                var tokens = plan.Chunk(c);
                be.EvaluateChunk(tokens, p.AsSpan(0, tokens.Length * vocab));
                te.EvaluateChunk(tokens, q.AsSpan(0, tokens.Length * vocab));
                for (int j = 0; j < tokens.Length - 1; j++)
                {
                    var pr = p.AsSpan(j * vocab, vocab);
                    var qr = q.AsSpan(j * vocab, vocab);
                    chunk.Clear();
                    encoder.Encode(pr, tokens[j + 1], chunk);
                    var exact = GgufOptimize.Metrics.LogitComparer.Compare(pr, qr, tokens[j + 1]);
                    var compact = GgufOptimize.Metrics.TopTailComparer.Compare(chunk.Ids, chunk.Logits, chunk.LogNorm[0], chunk.TailMass[0], chunk.NextLogit[0], qr, tokens[j + 1], scratch);
                    var kept = chunk.Ids.ToArray().ToHashSet();
                    double max = double.MinValue, min = double.MaxValue;
                    for (int i = 0; i < vocab; i++)
                        if (!kept.Contains(i)) { max = Math.Max(max, pr[i] - qr[i]); min = Math.Min(min, pr[i] - qr[i]); }
                    double bound = chunk.TailMass[0] * (max - min), error = exact.Kld - compact.Kld;
                    Assert.True(chunk.TailMass[0] <= epsilon * (1 + 1e-6));
                    Assert.True(error >= -1e-9 * exact.Kld - 1e-14, $"ε {epsilon}, chunk {c}, position {j}: compact {compact.Kld} above exact {exact.Kld}");
                    Assert.True(error <= bound + 1e-9 * exact.Kld + 1e-14, $"ε {epsilon}, chunk {c}, position {j}: error {error} above bound {bound}");
                    if (error > 1e-3 * exact.Kld) tight++;
                }
            }
        }
        Assert.True(tight > 0, "the tail never mattered: the test would not notice a wrong bound");
    }

    [Slow]
    [SkippableFact]
    public void A_compact_file_extends_to_more_chunks_and_h5py_reads_its_layout()
    {
        using var tmp = new TempDir();
        var first = LogitsJob.Run(Options(tmp, "c.h5", LogitsFormat.Compact, to: 2), NullProgress.Instance, default);
        Assert.Equal(2, first.ChunksComputed);
        var second = LogitsJob.Run(Options(tmp, "c.h5", LogitsFormat.Compact), NullProgress.Instance, default);
        Assert.Equal(2, second.ChunksAlreadyDone);
        Assert.Equal(second.TotalChunks - 2, second.ChunksComputed);
        LogitsJob.Run(Options(tmp, "all.h5", LogitsFormat.Compact), NullProgress.Instance, default);
        Assert.Equal(File.ReadAllBytes(tmp.File("all.h5")), File.ReadAllBytes(tmp.File("c.h5")));

        var e = Assert.Throws<GgufOptimizeException>(() => LogitsJob.Run(Options(tmp, "c.h5", LogitsFormat.Compact, tailMass: 1e-3), NullProgress.Instance, default));
        Assert.Contains("tail mass", e.Message);

        var info = H5py.Json("""
            import sys, json, h5py, numpy as np
            f = h5py.File(sys.argv[1], 'r')
            c, p = 1, 7
            start = int(f['entry_start'][c]) + int(f['top_count'][c, :p].sum())
            k = int(f['top_count'][c, p])
            lp = f['top_logits'][start:start + k] - f['log_norm'][c, p]
            print(json.dumps({'format': f.attrs['format'], 'tail_mass': float(f.attrs['tail_mass']), 'k': k,
                              'mass': float(np.exp(lp).sum() + f['tail_mass'][c, p]), 'sorted': bool((np.diff(lp) <= 0).all()),
                              'all_processed': bool(f['processed_chunks'][...].all()), 'contiguous': f['top_ids'].chunks is None}))
            """, tmp.File("c.h5"));
        Assert.Equal("gguf-optimize-compact-1", info.GetProperty("format").GetString());
        Assert.Equal(1e-4, info.GetProperty("tail_mass").GetDouble());
        Assert.InRange(info.GetProperty("k").GetInt32(), 1, 512);
        Assert.Equal(1.0, info.GetProperty("mass").GetDouble(), 1e-5);
        Assert.True(info.GetProperty("sorted").GetBoolean());
        Assert.True(info.GetProperty("all_processed").GetBoolean());
        Assert.True(info.GetProperty("contiguous").GetBoolean());
    }

    [Fact]
    public void The_working_log_drops_a_record_cut_short_and_keeps_the_ones_before()
    {
        using var tmp = new TempDir();
        string path = tmp.File("log.partial");
        var chunk = new CompactChunk();
        var encoder = new CompactRowEncoder(1e-3);
        var random = new Random(4);
        using (var log = CompactLog.Create(path, "identity"))
        {
            for (int c = 0; c < 3; c++)
            {
                chunk.Clear();
                for (int r = 0; r < 5; r++) encoder.Encode(GgufOptimize.Tests.Metrics.LogitGenerator.Gaussian(random, 300), r, chunk);
                log.Append(c, chunk);
            }
        }
        long full = new FileInfo(path).Length;
        using (var stream = new FileStream(path, FileMode.Open)) stream.SetLength(full - 10);
        using (var log = CompactLog.Open(path))
        {
            Assert.Equal("identity", log.Identity);
            Assert.Equal(new[] { 0, 1 }, log.Chunks.Order());
            var back = new CompactChunk();
            log.Read(1, back);
            Assert.Equal(5, back.Rows);
        }
        Assert.True(new FileInfo(path).Length < full - 10);
        // A flipped byte inside a record fails its checksum: that record and everything after it are dropped.
        var bytes = File.ReadAllBytes(path);
        bytes[^50] ^= 0xFF;
        File.WriteAllBytes(path, bytes);
        using (var log = CompactLog.Open(path)) Assert.Equal(new[] { 0 }, log.Chunks.Order());
    }
}
