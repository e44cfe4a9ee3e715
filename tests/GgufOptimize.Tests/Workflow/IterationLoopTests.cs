using GgufOptimize.Common;
using GgufOptimize.Imatrix;
using GgufOptimize.Metrics;
using GgufOptimize.Storage;
using GgufOptimize.Tests.Support;
using GgufOptimize.Workflow;
using Xunit.Abstractions;

namespace GgufOptimize.Tests.Workflow;

[Collection("engine-workflow")]
public class IterationLoopTests(ITestOutputHelper output)
{
    [Slow]
    [Fact]
    public async Task The_loop_runs_stops_for_the_stated_reason_and_a_rerun_redoes_nothing()
    {
        using var dir = new TempDir();
        var plan = WorkflowAssets.Plan(dir.File("out")) with { Types = ["Q4_0", "Q4_K_M"] };
        var result = await IterationLoop.RunAsync(plan, NullProgress.Instance);
        foreach (var t in result.Types)
        {
            output.WriteLine($"{t.Type}: {string.Join(", ", t.Iterations.Select(i => $"{i.Iteration}:{i.Overall.Score:G4}"))}; {t.StopReason}; best {t.Best.Iteration}");
            Assert.Equal(Enumerable.Range(0, t.Iterations.Count), t.Iterations.Select(i => i.Iteration));
            Assert.Null(t.Iterations[0].VersusPrevious);
            // Every step's verdict follows the rule, and the loop went on exactly while the verdict said so.
            foreach (var i in t.Iterations.Skip(1))
            {
                var d = i.VersusPrevious!;
                Assert.Equal(d.Comparison.IsSignificant && d.Improvement >= plan.MinImprovement, d.Continue);
                Assert.Equal(i.Iteration, i.Calibration!.ChunkEnd switch { 2 => 1, 6 => 2, 14 => 3, _ => -1 });
            }
            Assert.All(t.Iterations.Skip(1).SkipLast(1), i => Assert.True(i.VersusPrevious!.Continue));
            var last = t.Iterations[^1];
            if (last.VersusPrevious is { Continue: false } stop)
                Assert.Equal($"stopped after iteration {last.Iteration} ({last.Calibration?.Label ?? "no imatrix"}): {stop.Reason}", t.StopReason);
            else
            {
                Assert.Equal(4, t.Iterations.Count);
                Assert.StartsWith("the calibration subsets are exhausted", t.StopReason);
            }
            Assert.InRange(t.Best.Iteration, 0, last.Iteration);
            Assert.All(t.Iterations, i => Assert.True(File.Exists(i.ComparisonFile) && File.Exists(i.QuantizedModel)));
        }
        // The imatrix grows by the new chunks only: each file counts all chunks of its subset.
        foreach (var (tag, chunks) in new[] { ("2-chunks", 2), ("6-chunks", 6), ("14-chunks", 14) })
        {
            string file = dir.File($"out/imatrix/imatrix-{tag}.gguf");
            if (File.Exists(file)) Assert.Equal(chunks, ImatrixFile.Load(file).ChunkCount);
        }
        string report = File.ReadAllText(dir.File("out/report/report.md"));
        Assert.Contains("| Q4_0 | 0 | none |", report);
        Assert.Contains("| Q4_K_M | 1 | 2 chunks |", report);
        // Two plots across types, the files × chunks heat map, and two per type.
        Assert.Equal(7, Directory.GetFiles(dir.File("out/report"), "*.png").Length);

        var again = await IterationLoop.RunAsync(plan, NullProgress.Instance);
        Assert.Equal(0, again.StepsRun);
        Assert.Equal(result.StepsRun, again.StepsReused);
        Assert.Equal(report, File.ReadAllText(dir.File("out/report/report.md")));

        // A stricter rule reuses every artifact and stops each type right after its first imatrix.
        var strict = await IterationLoop.RunAsync(plan with { MinImprovement = 0.99 }, NullProgress.Instance);
        Assert.Equal(0, strict.StepsRun);
        Assert.All(strict.Types, t =>
        {
            Assert.Equal(2, t.Iterations.Count);
            Assert.StartsWith("stopped after iteration 1 (2 chunks): ", t.StopReason);
        });
    }

    [Slow]
    [Fact]
    public async Task Early_stopping_scores_every_comparison_on_the_chunks_the_first_one_needed()
    {
        using var dir = new TempDir();
        var plan = WorkflowAssets.Plan(dir.File("out")) with
        {
            SubsetSizes = [3], Types = ["Q4_0", "Q5_0"], EarlyStopping = true, MarginOfError = 0.25, MinChunks = 4,
        };
        var result = await IterationLoop.RunAsync(plan, NullProgress.Instance);
        int total = BaselineLogitsReader.ReadHeader(dir.File("out/baseline.h5")).TotalChunks;
        output.WriteLine($"{result.EvaluationChunks} of {total} chunks");
        Assert.InRange(result.EvaluationChunks, 4, total - 1);
        var comparisons = result.Types.SelectMany(t => t.Iterations).ToList();
        Assert.Equal(4, comparisons.Count);
        var sample = ChunkOrder.Shuffled(Enumerable.Range(0, total).ToArray(), plan.Seed).Take(result.EvaluationChunks).Order().ToList();
        foreach (var c in comparisons)
            Assert.Equal(sample, KldOutputFile.Read(c.ComparisonFile).Chunks.Select(x => x.ChunkIndex));
        Assert.Contains(result.Notes, n => n.StartsWith("early stopping: the first comparison needed"));
    }

    [Slow]
    [Fact]
    public async Task Subset_sizes_in_samples_are_nested_subsets_of_one_calibration_file()
    {
        using var dir = new TempDir();
        var plan = WorkflowAssets.Plan(dir.File("out")) with { CalibrationUnit = CalibrationUnit.Samples, SubsetSizes = [20, 60, 100000], MinImprovement = 0 };
        var result = await IterationLoop.RunAsync(plan, NullProgress.Instance);
        string folder = dir.File("out/calibration");
        string small = File.ReadAllText(Path.Combine(folder, "subset-20.txt")), large = File.ReadAllText(Path.Combine(folder, "subset-60.txt"));
        Assert.StartsWith(small, large);
        Assert.Contains(result.Notes, n => n.Contains("100000 samples") && n.Contains("all of it is used"));
        var type = Assert.Single(result.Types);
        var ends = type.Iterations.Skip(1).Select(i => i.Calibration!.ChunkEnd).ToList();
        Assert.True(ends.SequenceEqual(ends.Order()) && ends.Distinct().Count() == ends.Count, string.Join(",", ends));
        Assert.Equal("20 samples", type.Iterations[1].Calibration!.Label);
    }
}
