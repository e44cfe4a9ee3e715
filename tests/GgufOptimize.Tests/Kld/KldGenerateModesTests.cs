using GgufOptimize.Common;
using GgufOptimize.Kld;
using GgufOptimize.Quantization;
using GgufOptimize.Storage;
using GgufOptimize.Tests.Support;
using GgufOptimize.Tests.Workflow;

namespace GgufOptimize.Tests.Kld;

/// <summary>kl_d_bench's generate modes: the target's logits stored while generating, and --keep's bounded files.</summary>
[Collection("engine-workflow")]
public class KldGenerateModesTests
{
    private static string QuantizedTarget(TempDir tmp)
    {
        var outcome = ModelQuantizer.Run(new QuantizeOptions
        {
            ModelPath = WorkflowAssets.Model, Types = [QuantizationTypes.Parse("Q4_0")], OutputDirectory = tmp.Path, Threads = 1,
        }, NullProgress.Instance);
        return outcome[0].OutputPath;
    }

    private static KldJobOptions GenerateBoth(TempDir tmp, string target, string output) => new()
    {
        BaselineModel = WorkflowAssets.Model, TargetModel = target, Dataset = WorkflowAssets.Evaluation,
        OutputFile = tmp.File(output), ContextSize = 128, Threads = 1,
    };

    [Slow]
    [Fact]
    public void Stored_target_logits_reproduce_the_generated_comparison()
    {
        using var tmp = new TempDir();
        string target = QuantizedTarget(tmp);
        var generated = KldJob.Run(GenerateBoth(tmp, target, "both.h5") with
        {
            KeepLogits = tmp.File("base.h5"), TargetLogitsOutput = tmp.File("target.h5"),
        }, NullProgress.Instance, default);
        Assert.True(generated.Overall.Average > 0, "Q4_0 must differ from F16");

        using (var stored = BaselineLogitsReader.Open(tmp.File("target.h5")))
        {
            Assert.Equal(generated.Chunks.Count, stored.ProcessedCount);
            Assert.Equal(Path.GetFileName(target), stored.Header.Model.FileName);
            Assert.Null(stored.Slots);
        }
        var replayed = KldJob.Run(new KldJobOptions
        {
            BaselineLogits = tmp.File("base.h5"), TargetLogits = tmp.File("target.h5"), OutputFile = tmp.File("stored.h5"),
        }, NullProgress.Instance, default);
        Assert.Equal(generated.Overall.ToDictionary()["Score"], replayed.Overall.ToDictionary()["Score"], 12);
        Assert.Equal(generated.Overall.Median, replayed.Overall.Median, 12);
    }

    [Slow]
    [Fact]
    public void Keep_holds_only_the_last_chunks_and_they_are_the_right_ones()
    {
        using var tmp = new TempDir();
        string target = QuantizedTarget(tmp);
        var full = KldJob.Run(GenerateBoth(tmp, target, "full.h5") with
        {
            KeepLogits = tmp.File("base-full.h5"), TargetLogitsOutput = tmp.File("target-full.h5"),
        }, NullProgress.Instance, default);
        int chunks = full.Chunks.Count;
        Assert.True(chunks > 4, $"the evaluation text gives {chunks} chunks");

        var kept = KldJob.Run(GenerateBoth(tmp, target, "kept.h5") with
        {
            KeepLogits = tmp.File("base-kept.h5"), TargetLogitsOutput = tmp.File("target-kept.h5"), Keep = 3,
        }, NullProgress.Instance, default);
        Assert.Equal(full.Overall.Median, kept.Overall.Median, 12);
        Assert.True(new FileInfo(tmp.File("target-kept.h5")).Length < new FileInfo(tmp.File("target-full.h5")).Length / 2);

        using (var reader = BaselineLogitsReader.Open(tmp.File("target-kept.h5")))
        using (var reference = BaselineLogitsReader.Open(tmp.File("target-full.h5")))
        {
            Assert.Equal(3, reader.Slots);
            var present = Enumerable.Range(0, chunks).Where(reader.HasChunk).ToArray();
            Assert.Equal(Enumerable.Range(chunks - 3, 3), present);
            foreach (int c in present)
                Assert.True(reader.ChunkLogits(c).SequenceEqual(reference.ChunkLogits(c)), $"chunk {c} holds other logits than the full file's");
        }

        // The kept pair compares as a baseline: only its chunks, with the full run's per-chunk numbers.
        var replay = KldJob.Run(new KldJobOptions
        {
            BaselineLogits = tmp.File("base-kept.h5"), TargetLogits = tmp.File("target-kept.h5"), OutputFile = tmp.File("replay.h5"),
        }, NullProgress.Instance, default);
        Assert.Equal(3, replay.Chunks.Count);
        foreach (var chunk in replay.Chunks)
            Assert.Equal(full.Chunks.Single(c => c.ChunkIndex == chunk.ChunkIndex).Kld.ToArray(), chunk.Kld.ToArray());
    }

    [Fact]
    public void Bad_generate_mode_options_are_refused_naming_the_option()
    {
        using var tmp = new TempDir();
        var o = new KldJobOptions { BaselineLogits = "b.h5", TargetLogits = "t.h5", OutputFile = tmp.File("o.h5") };
        var e = Assert.Throws<GgufOptimizeException>(() => KldJob.Run(o with { TargetLogitsOutput = tmp.File("x.h5") }, NullProgress.Instance, default));
        Assert.Contains("--target-logits-output", e.Message);
        e = Assert.Throws<GgufOptimizeException>(() => KldJob.Run(o with { Keep = 2 }, NullProgress.Instance, default));
        Assert.Contains("--keep", e.Message);
        e = Assert.Throws<GgufOptimizeException>(() => KldJob.Run(new KldJobOptions
        {
            BaselineModel = "b.gguf", TargetModel = "t.gguf", Dataset = "d.txt", OutputFile = tmp.File("o.h5"), Keep = 0, KeepLogits = tmp.File("k.h5"),
        }, NullProgress.Instance, default));
        Assert.Contains("--keep must be at least 1", e.Message);

        var cli = CliProcess.Run("kld", "--baseline-logits", "b.h5", "--target-logits", "t.h5", "--keep", "many");
        Assert.Equal(2, cli.ExitCode);
        Assert.Contains("--keep", cli.Stderr);
    }
}
