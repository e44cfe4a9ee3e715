using GgufOptimize.Common;
using GgufOptimize.Kld;
using GgufOptimize.Logits;
using GgufOptimize.Metrics;
using GgufOptimize.Storage;
using GgufOptimize.Storage.Hdf5;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Kld;

public class KldJobTests
{
    private static string MakeBaseline(TempDir tmp, int precision = 32, int chars = 8000, string name = "base.h5")
    {
        string data = tmp.File("data.txt");
        if (!File.Exists(data)) File.WriteAllText(data, File.ReadAllText(SharedAssets.AidreamsText)[..chars]);
        LogitsJob.Run(new LogitsJobOptions
        {
            ModelPath = SharedAssets.AidreamsModel, DatasetPath = data, OutputPath = tmp.File(name), Precision = precision,
        }, NullProgress.Instance, default);
        return tmp.File(name);
    }

    [Slow]
    [SkippableFact]
    public void The_same_model_gives_zero_divergence_everywhere()
    {
        using var tmp = new TempDir();
        var r = KldJob.Run(new KldJobOptions
        {
            BaselineLogits = MakeBaseline(tmp), TargetModel = SharedAssets.AidreamsModel, OutputFile = tmp.File("cmp.h5"),
        }, NullProgress.Instance, default);
        Assert.True(r.Overall.Tokens > 500);
        Assert.All(r.Chunks, c => Assert.All(c.Kld, k => Assert.Equal(0f, k)));
        Assert.Equal(0, r.Overall.Score);
        Assert.Equal(1.0, r.Overall.Same_top_p);
        Assert.Equal(1.0, r.Overall.PPL_ratio, 12);
        Assert.False(Directory.Exists(tmp.File("cmp.h5.parts")));
    }

    [SkippableFact]
    public void Float16_target_logits_diverge_slightly_and_the_file_round_trips()
    {
        using var tmp = new TempDir();
        string f32 = MakeBaseline(tmp), f16 = MakeBaseline(tmp, precision: 16, name: "half.h5");
        var r = KldJob.Run(new KldJobOptions { BaselineLogits = f32, TargetLogits = f16, OutputFile = tmp.File("cmp.h5") }, NullProgress.Instance, default);
        Assert.InRange(r.Overall.Average, 1e-12, 1e-4);
        Assert.True(r.Overall.Same_top_p > 0.99);

        // The output file holds exactly what the run computed: statistics recomputed from it are identical.
        var back = KldOutputFile.Read(tmp.File("cmp.h5"));
        Assert.Equal(r.Chunks.Select(c => c.ChunkIndex), back.Chunks.Select(c => c.ChunkIndex));
        Assert.Equal(r.Overall, KldStatistics.Compute(back.Chunks));
        var layout = Hdf5ContiguousFile.Open(tmp.File("cmp.h5"));
        Assert.Equal(r.Overall.Score, layout.Group("/overall").Attribute<double>("Score"));
        Assert.Equal(r.Chunks[1].Kld.Length, (int)KldStatistics.Compute(r.Chunks[1]).Tokens);
        Assert.Equal(KldStatistics.Compute(r.Chunks[1]).Median, layout.Group("/chunk_1").Attribute<double>("Median"));
    }

    [Slow]
    [SkippableFact]
    public void Skip_first_scores_only_the_later_positions()
    {
        using var tmp = new TempDir();
        string f32 = MakeBaseline(tmp), f16 = MakeBaseline(tmp, precision: 16, name: "half.h5");
        var all = KldJob.Run(new KldJobOptions { BaselineLogits = f32, TargetLogits = f16, OutputFile = tmp.File("a.h5") }, NullProgress.Instance, default);
        var half = KldJob.Run(new KldJobOptions { BaselineLogits = f32, TargetLogits = f16, OutputFile = tmp.File("b.h5"), SkipFirst = 64 }, NullProgress.Instance, default);
        Assert.Equal(all.Chunks[0].Kld[64..], half.Chunks[0].Kld);
    }

    [Slow]
    [SkippableFact]
    public void Skip_first_with_a_target_model_computes_only_the_scored_rows_and_scores_them_the_same()
    {
        // The target model is asked for no logits before position 64; the rows it does return must land on the right
        // positions (a shifted row would change the divergences far beyond rounding) and no unrequested row is read
        // (those hold NaN and would make the run fail as non-finite).
        using var tmp = new TempDir();
        string f16 = MakeBaseline(tmp, precision: 16, name: "half.h5");
        var all = KldJob.Run(new KldJobOptions { BaselineLogits = f16, TargetModel = SharedAssets.AidreamsModel, OutputFile = tmp.File("a.h5") }, NullProgress.Instance, default);
        var half = KldJob.Run(new KldJobOptions { BaselineLogits = f16, TargetModel = SharedAssets.AidreamsModel, OutputFile = tmp.File("b.h5"), SkipFirst = 64 }, NullProgress.Instance, default);
        Assert.True(all.Overall.Average > 0);
        Assert.Equal(all.Chunks.Count, half.Chunks.Count);
        for (int c = 0; c < all.Chunks.Count; c++)
        {
            var scored = all.Chunks[c].Kld;
            var expected = scored[Math.Min(64, scored.Length)..];
            Assert.Equal(expected.Length, half.Chunks[c].Kld.Length);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - half.Chunks[c].Kld[i]) <= 1e-6 + 1e-3 * Math.Abs(expected[i]), $"chunk {c} position {64 + i}: {expected[i]} vs {half.Chunks[c].Kld[i]}");
        }
    }

    [Slow]
    [SkippableFact]
    public void Mismatched_inputs_are_refused_before_work()
    {
        using var tmp = new TempDir();
        string baseline = MakeBaseline(tmp);
        File.WriteAllText(tmp.File("other.txt"), "another text entirely");
        var e1 = Assert.Throws<GgufOptimizeException>(() => KldJob.Run(new KldJobOptions
        {
            BaselineLogits = baseline, TargetModel = SharedAssets.TinyRandomLlama2, OutputFile = tmp.File("c.h5"),
        }, NullProgress.Instance, default));
        Assert.Contains("vocabulary size mismatch", e1.Message);
        var e2 = Assert.Throws<GgufOptimizeException>(() => KldJob.Run(new KldJobOptions
        {
            BaselineLogits = baseline, TargetModel = SharedAssets.AidreamsModel, Dataset = tmp.File("other.txt"), OutputFile = tmp.File("c.h5"),
        }, NullProgress.Instance, default));
        Assert.Contains("other.txt", e2.Message);
        Assert.False(File.Exists(tmp.File("c.h5")));
    }

    [SkippableFact]
    public void Nan_target_rows_are_counted_and_excluded()
    {
        using var tmp = new TempDir();
        string baseline = MakeBaseline(tmp);
        string target = MakeBaseline(tmp, name: "target.h5");
        using (var writer = Hdf5DataWriter.Open(target))
        {
            var logits = writer.Layout.Dataset("/logits");
            int nVocab = 512, nCtx = 128;
            // Chunk 1, position 5: one NaN; position 9: +Inf.
            writer.Write(logits, (1L * nCtx + 5) * nVocab + 17, (ReadOnlySpan<float>)[float.NaN]);
            writer.Write(logits, (1L * nCtx + 9) * nVocab + 3, (ReadOnlySpan<float>)[float.PositiveInfinity]);
        }
        var r = KldJob.Run(new KldJobOptions { BaselineLogits = baseline, TargetLogits = target, OutputFile = tmp.File("c.h5") }, NullProgress.Instance, default);
        Assert.Equal(2, r.Chunks[1].NonFiniteRows);
        Assert.Equal(126 - 2 + 1, r.Chunks[1].Count);
        Assert.Equal(2, r.Overall.NonFiniteRows);
        Assert.All(r.Chunks.SelectMany(c => c.Kld), k => Assert.True(double.IsFinite(k)));
    }

    [SkippableFact]
    public void An_incomplete_baseline_compares_the_chunks_it_has_and_says_so()
    {
        using var tmp = new TempDir();
        string data = tmp.File("data.txt");
        File.WriteAllText(data, File.ReadAllText(SharedAssets.AidreamsText)[..8000]);
        var opts = new LogitsJobOptions { ModelPath = SharedAssets.AidreamsModel, DatasetPath = data, OutputPath = tmp.File("b.h5"), ToChunk = 2 };
        var logits = LogitsJob.Run(opts, NullProgress.Instance, default);
        Assert.True(logits.TotalChunks > 2);
        var r = KldJob.Run(new KldJobOptions { BaselineLogits = tmp.File("b.h5"), TargetModel = SharedAssets.AidreamsModel, OutputFile = tmp.File("c.h5") }, NullProgress.Instance, default);
        Assert.Equal(2, r.Chunks.Count);
        Assert.Equal(logits.TotalChunks - 2, r.MissingBaselineChunks.Count);
        Assert.Equal(1.0, KldOutputFile.Read(tmp.File("c.h5")).Numbers["baseline_incomplete"]);
    }

    [Slow]
    [SkippableFact]
    public void Early_stopping_stops_when_the_interval_is_narrow_and_records_it()
    {
        using var tmp = new TempDir();
        string f32 = MakeBaseline(tmp, chars: 30000), f16 = MakeBaseline(tmp, precision: 16, name: "half.h5");
        var full = KldJob.Run(new KldJobOptions { BaselineLogits = f32, TargetLogits = f16, OutputFile = tmp.File("full.h5") }, NullProgress.Instance, default);
        var early = KldJob.Run(new KldJobOptions
        {
            BaselineLogits = f32, TargetLogits = f16, OutputFile = tmp.File("early.h5"),
            EarlyStopping = true, MarginOfError = 0.25, MinChunks = 4, Resamples = 400,
        }, NullProgress.Instance, default);
        var e = early.EarlyStopping;
        Assert.True(e.Enabled && e.Stopped, e.Reason);
        Assert.True(e.ChunksUsed < full.Chunks.Count, $"stopped after {e.ChunksUsed} of {full.Chunks.Count}");
        Assert.Equal(full.Chunks.Count, e.ChunksTotal);
        Assert.Contains(e.ChunksUsed, e.PlannedLooks);
        Assert.Equal(e.ChunksUsed, early.Chunks.Count);
        // The interval lies within ±margin of the estimate, so covering the full Score puts the estimate within the margin.
        Assert.InRange(e.Lower, early.Overall.Score / 1.25, early.Overall.Score);
        Assert.InRange(e.Upper, early.Overall.Score, early.Overall.Score * 1.25);

        // The chunks are the seeded random order's first ones, stored in chunk order; the file says so.
        var order = ChunkOrder.Shuffled(Enumerable.Range(0, full.Chunks.Count).ToArray(), e.Seed);
        Assert.Equal(order.Take(e.ChunksUsed).Order(), early.Chunks.Select(c => c.ChunkIndex));
        var file = KldOutputFile.Read(tmp.File("early.h5"));
        Assert.Equal((double)e.ChunksUsed, file.Numbers["early_stopping_chunks"]);
        Assert.Equal(1.0, file.Numbers["early_stopping_stopped"]);
        Assert.Equal(e.Upper, file.Numbers["score_ci_upper"]);
        Assert.Equal("random", file.Provenance["early_stopping_order"]);
        Assert.Equal(e.Reason, file.Provenance["early_stopping_reason"]);

        // A comparison limited to that sample (what iterate's later comparisons do) scores the same chunks.
        var sample = KldJob.Run(new KldJobOptions { BaselineLogits = f32, TargetLogits = f16, OutputFile = tmp.File("sample.h5"), SampleChunks = e.ChunksUsed },
            NullProgress.Instance, default);
        Assert.Equal(early.Chunks.Select(c => c.ChunkIndex), sample.Chunks.Select(c => c.ChunkIndex));
        Assert.Equal(early.Overall.Score, sample.Overall.Score);
        Assert.False(sample.EarlyStopping.Enabled);

        Assert.False(full.EarlyStopping.Enabled);
        Assert.Equal(0.0, KldOutputFile.Read(tmp.File("full.h5")).Numbers["early_stopping_enabled"]);
        Assert.Equal("text", KldOutputFile.Read(tmp.File("full.h5")).Provenance["early_stopping_order"]);
    }

    /// <summary>Cancels the run once <paramref name="after"/> chunks are done (as a kill between chunks would).</summary>
    private sealed class CancelAfter(int after, CancellationTokenSource cts) : IProgressSink
    {
        private bool _comparing;
        public void Start(string description, long total) => _comparing = description == "kld";
        public void Report(long done, long tokens = 0) { if (_comparing && done >= after) cts.Cancel(); }
        public void Info(string message) { }
        public void Warn(string message) { }
        public void Finish() { }
    }

    [SkippableFact]
    public void An_interrupted_early_stopping_run_resumes_the_same_random_order_and_ends_identically()
    {
        using var tmp = new TempDir();
        string f32 = MakeBaseline(tmp, chars: 30000), f16 = MakeBaseline(tmp, precision: 16, name: "half.h5");
        KldJobOptions Options(string output) => new()
        {
            BaselineLogits = f32, TargetLogits = f16, OutputFile = tmp.File(output), EarlyStopping = true, MarginOfError = 0.03, MinChunks = 4, Resamples = 400,
        };
        var whole = KldJob.Run(Options("whole.h5"), NullProgress.Instance, default);
        Assert.True(whole.EarlyStopping.ChunksUsed > 5, whole.EarlyStopping.Reason);

        using var cts = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() => KldJob.Run(Options("resumed.h5"), new CancelAfter(5, cts), cts.Token));
        var resumed = KldJob.Run(Options("resumed.h5"), NullProgress.Instance, default);
        Assert.Equal(5, resumed.ChunksReused);
        Assert.Equal((whole.EarlyStopping.Stopped, whole.EarlyStopping.Reason, whole.EarlyStopping.Looks), (resumed.EarlyStopping.Stopped, resumed.EarlyStopping.Reason, resumed.EarlyStopping.Looks));
        Assert.Equal(whole.Chunks.Select(c => c.ChunkIndex), resumed.Chunks.Select(c => c.ChunkIndex));
        Assert.Equal(whole.Overall.Score, resumed.Overall.Score);
        Assert.Equal(whole.EarlyStopping.Lower, resumed.EarlyStopping.Lower);
        Assert.Equal(whole.EarlyStopping.Upper, resumed.EarlyStopping.Upper);
    }
}
