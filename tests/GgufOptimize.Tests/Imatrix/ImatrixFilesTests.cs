using GgufOptimize.Common;
using GgufOptimize.Gguf;
using GgufOptimize.Imatrix;
using GgufOptimize.Tests.Quantization;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Imatrix;

public class ImatrixFilesTests
{
    private static ImatrixOptions Compute(TempDir dir, string dataset, string output, int from, int chunks) => new()
    {
        ModelPath = SharedAssets.AidreamsModel, DatasetPath = dataset, OutputPath = dir.File(output),
        ContextSize = 128, FromChunk = from, Chunks = chunks, Threads = 1,
    };

    [SkippableFact]
    public void The_gguf_file_has_llama_cpp_layout()
    {
        using var dir = new TempDir();
        string dataset = AidreamsText.WriteCalibration(dir, 30);
        ImatrixBuilder.Run(Compute(dir, dataset, "i.gguf", 0, 3), NullProgress.Instance);
        var file = GgufFile.Read(dir.File("i.gguf"));
        Assert.Equal("imatrix", file.Metadata.GetString("general.type"));
        // Recorded relative to the output's folder, so the same run elsewhere writes the same bytes.
        Assert.Equal([Path.GetFileName(dataset)], file.Metadata["imatrix.datasets"].AsStringArray());
        Assert.Equal(GgufValueType.UInt32, file.Metadata["imatrix.chunk_count"].Type);
        Assert.Equal(3, file.Metadata.GetInteger("imatrix.chunk_count"));
        Assert.Equal(128, file.Metadata.GetInteger("imatrix.chunk_size"));
        var names = file.Tensors.Select(t => t.Name).ToList();
        var weights = names.Where(n => n.EndsWith(".in_sum2")).Select(n => n[..^8]).ToList();
        Assert.Equal(weights.OrderBy(n => n, StringComparer.Ordinal), weights);
        Assert.Equal(weights.SelectMany(w => new[] { w + ".in_sum2", w + ".counts" }), names);
        var down = file.Tensor("blk.2.ffn_down.weight.in_sum2");
        Assert.Equal([172L, 1L], down.Dimensions);
        Assert.Equal(GgmlType.F32, down.Type);
        Assert.Equal([1L, 1L], file.Tensor("blk.2.ffn_down.weight.counts").Dimensions);
        Assert.Equal([384f], file.ReadTensorFloats(file.Tensor("blk.2.ffn_down.weight.counts")));
    }

    [Slow]
    [SkippableFact]
    public void Merging_the_imatrices_of_two_halves_equals_the_imatrix_of_the_whole()
    {
        using var dir = new TempDir();
        string dataset = AidreamsText.WriteCalibration(dir, 60);
        ImatrixBuilder.Run(Compute(dir, dataset, "whole.gguf", 0, 8), NullProgress.Instance);
        ImatrixBuilder.Run(Compute(dir, dataset, "a.gguf", 0, 4), NullProgress.Instance);
        ImatrixBuilder.Run(Compute(dir, dataset, "b.dat", 4, 4) with { Format = ImatrixFileFormat.Dat }, NullProgress.Instance);
        var merged = ImatrixBuilder.Run(new ImatrixOptions { InFiles = [dir.File("a.gguf"), dir.File("b.dat")], OutputPath = dir.File("merged.gguf"), ContextSize = 128 }, NullProgress.Instance);
        Assert.Equal(28, merged.Entries);

        // Continuing from the first half's file with the second half of the text gives the same.
        ImatrixBuilder.Run(Compute(dir, dataset, "continued.gguf", 4, 4) with { InFiles = [dir.File("a.gguf")] }, NullProgress.Instance);

        var whole = ImatrixFile.Load(dir.File("whole.gguf"));
        foreach (var name in new[] { "merged.gguf", "continued.gguf" })
        {
            var sum = ImatrixFile.Load(dir.File(name));
            Assert.Equal(8, sum.ChunkCount);
            Assert.Equal([Path.GetFileName(dataset), Path.GetFileName(dataset)], sum.Datasets);
            Assert.Equal(whole.Entries.Select(e => e.Name), sum.Entries.Select(e => e.Name));
            foreach (var e in whole.Entries)
            {
                var m = sum.Find(e.Name)!;
                Assert.Equal(e.Counts, m.Counts);
                for (int i = 0; i < e.Sums.Length; i++)
                    Assert.True(Math.Abs(e.Sums[i] - m.Sums[i]) <= 2e-6 * e.Sums[i] + 1e-9, $"{name} {e.Name}[{i}]: {e.Sums[i]} vs {m.Sums[i]}");
            }
        }
    }

    [SkippableFact]
    public void Gguf_to_dat_and_back_preserves_values_counts_chunks_and_dataset()
    {
        using var dir = new TempDir();
        string dataset = AidreamsText.WriteCalibration(dir, 30);
        ImatrixBuilder.Run(Compute(dir, dataset, "i.gguf", 0, 5), NullProgress.Instance);
        ImatrixBuilder.Run(new ImatrixOptions { InFiles = [dir.File("i.gguf")], OutputPath = dir.File("i.dat"), Format = ImatrixFileFormat.Dat }, NullProgress.Instance);
        Assert.Equal(ImatrixFileFormat.Dat, ImatrixFile.DetectFormat(dir.File("i.dat")));
        ImatrixBuilder.Run(new ImatrixOptions { InFiles = [dir.File("i.dat")], OutputPath = dir.File("back.gguf"), ContextSize = 128 }, NullProgress.Instance);

        var original = ImatrixFile.Load(dir.File("i.gguf"));
        var back = ImatrixFile.Load(dir.File("back.gguf"));
        Assert.Equal(original.ChunkCount, back.ChunkCount);
        Assert.Equal(128, back.ChunkSize);
        Assert.Equal(original.Datasets, back.Datasets);
        foreach (var e in original.Entries)
        {
            var b = back.Find(e.Name)!;
            Assert.Equal(e.Counts, b.Counts);
            var x = e.MeanSquares();
            var y = b.MeanSquares();
            for (int i = 0; i < x.Length; i++) Assert.True(Math.Abs(x[i] - y[i]) <= 1e-6f * x[i], $"{e.Name}[{i}]: {x[i]} vs {y[i]}");
        }
    }

    [SkippableFact]
    public void An_interrupted_run_resumes_from_its_snapshot_and_ends_with_the_same_numbers()
    {
        using var dir = new TempDir();
        string dataset = AidreamsText.WriteCalibration(dir, 60);
        var options = Compute(dir, dataset, "r.gguf", 2, 7) with { SaveFrequency = 2 };
        ImatrixBuilder.Run(options with { OutputPath = dir.File("straight.gguf") }, NullProgress.Instance);

        using var cts = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() => ImatrixBuilder.Run(options, new CancelAfter(5, cts), cts.Token));
        Assert.False(File.Exists(dir.File("r.gguf")));
        Assert.True(File.Exists(dir.File("r.gguf.resume")));

        var resumed = ImatrixBuilder.Run(options, NullProgress.Instance);
        Assert.Equal(5, resumed.ChunksResumed);
        Assert.Equal(2, resumed.ChunksEvaluated);
        Assert.False(File.Exists(dir.File("r.gguf.resume")));
        Assert.Equal(File.ReadAllBytes(dir.File("straight.gguf")), File.ReadAllBytes(dir.File("r.gguf")));

        // A snapshot of other settings is not resumed.
        using var cts2 = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() => ImatrixBuilder.Run(options with { OutputPath = dir.File("s.gguf") }, new CancelAfter(3, cts2), cts2.Token));
        var other = ImatrixBuilder.Run(options with { OutputPath = dir.File("s.gguf"), FromChunk = 3 }, NullProgress.Instance);
        Assert.Equal(0, other.ChunksResumed);
    }

    [SkippableFact]
    public void A_non_finite_activation_stops_the_run_naming_tensor_and_chunk()
    {
        using var dir = new TempDir();
        var source = GgufFile.Read(SharedAssets.AidreamsModel);
        var writer = GgufWriter.CopyOf(source);
        var norm = source.ReadTensorFloats(source.Tensor("blk.1.ffn_norm.weight"));
        norm[5] = float.NaN;
        writer.RemoveTensor("blk.1.ffn_norm.weight");
        writer.AddTensor("blk.1.ffn_norm.weight", [norm.Length], norm);
        writer.Write(dir.File("nan.gguf"));
        string dataset = AidreamsText.WriteCalibration(dir, 20);

        var e = Assert.Throws<GgufOptimizeException>(() => ImatrixBuilder.Run(Compute(dir, dataset, "nan-imatrix.gguf", 2, 3) with { ModelPath = dir.File("nan.gguf") }, NullProgress.Instance));
        Assert.Contains("non-finite", e.Message);
        Assert.Contains("blk.1.ffn_gate.weight", e.Message);
        Assert.Contains("chunk 2", e.Message);
        Assert.False(File.Exists(dir.File("nan-imatrix.gguf")));
    }

    [SkippableFact]
    public void Bad_imatrix_inputs_are_refused_with_one_line()
    {
        using var dir = new TempDir();
        var good = new ImportanceMatrix { ChunkCount = 2, ChunkSize = 8 };
        good.Add("blk.0.attn_q.weight", [1, 2, 3, 4], [8]);
        ImatrixFile.Save(good, dir.File("g.gguf"), ImatrixFileFormat.Gguf);
        ImatrixFile.Save(good, dir.File("g.dat"), ImatrixFileFormat.Dat);
        var bytes = File.ReadAllBytes(dir.File("g.gguf"));
        File.WriteAllBytes(dir.File("cut.gguf"), bytes[..(bytes.Length - 40)]);
        var dat = File.ReadAllBytes(dir.File("g.dat"));
        File.WriteAllBytes(dir.File("cut.dat"), dat[..30]);
        File.WriteAllBytes(dir.File("short"), [1, 2]);

        foreach (var bad in new[] { "cut.gguf", "cut.dat", "short", "absent.gguf" })
        {
            var e = Assert.Throws<GgufOptimizeException>(() => ImatrixFile.Load(dir.File(bad)));
            Assert.Equal(FailureKind.BadInput, e.Kind);
            Assert.Contains(bad, e.Message);
        }
        var other = new ImportanceMatrix();
        other.Add("blk.0.attn_q.weight", [1, 2], [8]);
        ImatrixFile.Save(other, dir.File("o.gguf"), ImatrixFileFormat.Gguf);
        var mismatch = Assert.Throws<GgufOptimizeException>(() => ImatrixBuilder.Run(new ImatrixOptions { InFiles = [dir.File("g.gguf"), dir.File("o.gguf")], OutputPath = dir.File("m.gguf") }, NullProgress.Instance));
        Assert.Contains("blk.0.attn_q.weight", mismatch.Message);

        Assert.Throws<GgufOptimizeException>(() => ImatrixBuilder.Run(new ImatrixOptions { ModelPath = "m.gguf", OutputPath = dir.File("x.gguf") }, NullProgress.Instance));
        Assert.Throws<GgufOptimizeException>(() => ImatrixBuilder.Run(new ImatrixOptions { OutputPath = dir.File("x.gguf") }, NullProgress.Instance));
        Assert.Throws<GgufOptimizeException>(() => ImatrixFile.ParseFormat("json"));
    }

    [Fact]
    public void Expert_counts_broadcast_when_a_dense_imatrix_meets_a_per_expert_one()
    {
        var e = new ImatrixEntry("blk.0.ffn_up_exps.weight", [1, 1, 1, 1, 1, 1], [2]);
        e.Add([1, 2, 3, 4, 5, 6], [1, 0, 3]);
        Assert.Equal([3L, 2L, 5L], e.Counts);
        Assert.Equal([2.0, 3, 4, 5, 6, 7], e.Sums);
        Assert.Equal(2, e.Width);
        var means = e.MeanSquares();
        Assert.Equal([2 / 3f, 1f, 2f, 2.5f, 6 / 5f, 7 / 5f], means);
        var empty = new ImatrixEntry("x", [5, 5], [0]);
        Assert.Equal([1f, 1f], empty.MeanSquares());
    }

    private sealed class CancelAfter(int chunks, CancellationTokenSource cts) : IProgressSink
    {
        public void Start(string description, long total) { }
        public void Report(long done, long tokens = 0) { if (done >= chunks) cts.Cancel(); }
        public void Info(string message) { }
        public void Warn(string message) { }
        public void Finish() { }
    }
}
