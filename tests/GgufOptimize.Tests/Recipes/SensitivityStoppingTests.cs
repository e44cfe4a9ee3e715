using GgufOptimize.Common;
using GgufOptimize.Logits;
using GgufOptimize.Recipes;
using GgufOptimize.Tests.Support;
using GgufOptimize.Tests.Workflow;
using Xunit.Abstractions;

namespace GgufOptimize.Tests.Recipes;

/// <summary>Early stopping of sensitivity measurements: the rule itself, and a run driving real llama.cpp.</summary>
[Collection("engine-workflow")]
public class SensitivityStoppingTests(ITestOutputHelper output)
{
    private static List<ChunkMean> Chunks(int n, Func<int, double> mean) => Enumerable.Range(0, n).Select(i => new ChunkMean(i, 100, mean(i))).ToList();

    [Fact]
    public void A_large_steady_increase_is_decided_at_the_first_look_and_noise_around_zero_never_is()
    {
        var rule = new SensitivityStopping(0.1, 8, 0.95);
        var reference = Chunks(32, i => 0.01 + 0.001 * (i % 3));
        var steady = Chunks(8, i => reference[i].MeanKld + 0.5 + 0.01 * (i % 2));
        Assert.True(rule.Look(steady, reference, 32).Stop);
        foreach (int n in rule.Looks(32))
        {
            var noise = Chunks(n, i => reference[i].MeanKld + (i % 2 == 0 ? 0.02 : -0.019));
            Assert.False(rule.Look(noise, reference, 32).Stop, $"{n} chunks");
        }
        // A zero increase is never 'decided' to within a relative margin, whatever the spread.
        Assert.False(rule.Look(Chunks(16, i => reference[i].MeanKld), reference, 32).Stop);
    }

    [Fact]
    public void The_interval_narrows_with_the_finite_population_correction_and_the_number_of_looks()
    {
        var reference = Chunks(32, _ => 0.01);
        var mix = Chunks(16, i => 0.11 + 0.02 * (i % 4));
        var many = new SensitivityStopping(0.1, 2, 0.95);
        var few = new SensitivityStopping(0.1, 16, 0.95);
        // More looks → each look's confidence is higher → a wider interval at the same chunks.
        Assert.True(many.Looks(32).Count > few.Looks(32).Count);
        Assert.True(many.Look(mix, reference, 32).HalfWidth > few.Look(mix, reference, 32).HalfWidth);
        // All chunks of the sample compared: nothing is left to estimate.
        Assert.Equal(0, few.Look(Chunks(32, i => 0.11 + 0.02 * (i % 4)), reference, 32).HalfWidth);
    }

    /// <summary>Cancels the run at the n-th look of early stopping (inside a measurement, between two comparisons).</summary>
    private sealed class CancelAtLook(int look, CancellationTokenSource cts) : IProgressSink
    {
        private int _looks;
        public void Start(string description, long total) { }
        public void Report(long done, long tokens = 0) { }
        public void Warn(string message) { }
        public void Finish() { }
        public void Info(string message)
        {
            if (message.TrimStart().StartsWith("look at", StringComparison.Ordinal) && ++_looks == look) cts.Cancel();
        }
    }

    [Slow]
    [Fact]
    public void A_run_interrupted_between_looks_finishes_with_the_table_of_an_uninterrupted_run()
    {
        using var tmp = new TempDir();
        string baseline = tmp.File("base.h5");
        LogitsJob.Run(new LogitsJobOptions { ModelPath = WorkflowAssets.Model, DatasetPath = WorkflowAssets.Evaluation, OutputPath = baseline, ContextSize = 128, Threads = 1 },
            NullProgress.Instance, default);
        SensitivityOptions Options(string output) => new()
        {
            ModelPath = WorkflowAssets.Model, BaselineLogits = baseline, Types = ["Q4_K"], Grouping = GroupingMode.Tensor,
            OutputPath = tmp.File(output), Chunks = 12, Evaluation = new() { Threads = 1 }, EarlyStopping = new SensitivityStopping(0.2, 4, 0.9),
        };
        using (var cts = new CancellationTokenSource())
            Assert.ThrowsAny<OperationCanceledException>(() => SensitivityRun.Run(Options("a.json"), new CancelAtLook(5, cts), cts.Token));
        Assert.False(File.Exists(tmp.File("a.json")));
        var resumed = SensitivityRun.Run(Options("a.json"), NullProgress.Instance, default);
        var straight = SensitivityRun.Run(Options("b.json"), NullProgress.Instance, default);
        Assert.Equal(straight.Entries, resumed.Entries);
        Assert.Equal(straight.ChunksCompared, resumed.ChunksCompared);
    }

    [Slow]
    [Fact]
    public void Sensitivity_stops_decided_cells_early_compares_undecided_ones_fully_and_resumes()
    {
        using var tmp = new TempDir();
        string baseline = tmp.File("base.h5");
        LogitsJob.Run(new LogitsJobOptions { ModelPath = WorkflowAssets.Model, DatasetPath = WorkflowAssets.Evaluation, OutputPath = baseline, ContextSize = 128, Threads = 1 },
            NullProgress.Instance, default);
        // Q2_K on weights with outlier channels costs a lot on every chunk (decided quickly); F16 is the reference
        // itself, an increase of exactly zero that no relative margin can decide.
        var options = new SensitivityOptions
        {
            ModelPath = WorkflowAssets.Model, BaselineLogits = baseline, Types = ["Q2_K", "F16"], Grouping = GroupingMode.Tensor,
            OutputPath = tmp.File("sens.json"), Chunks = 12, Evaluation = new() { Threads = 1 },
            EarlyStopping = new SensitivityStopping(0.5, 4, 0.9),
        };
        var table = SensitivityRun.Run(options, NullProgress.Instance, default);
        foreach (var e in table.Entries) output.WriteLine($"{e.Group}={e.Type}: {e.Delta:G3} ± {e.DeltaSe:G2} on {e.ChunksMeasured} chunks");
        Assert.Equal(12, table.Chunks.Count);
        Assert.All(table.Entries.Where(e => e.Type == "F16"), e => Assert.Equal(12, e.ChunksMeasured));
        var early = table.Entries.Where(e => e.Type == "Q2_K" && e.ChunksMeasured < 12).ToList();
        Assert.NotEmpty(early);
        Assert.All(early, e => Assert.True(e.Delta > 0 && e.ChunksMeasured >= 4, e.ToString()));
        Assert.True(table.StoppedEarly >= early.Count);
        Assert.True(table.ChunksCompared < (long)table.Measurements * 12);
        Assert.Contains("Early stopping decided", File.ReadAllText(tmp.File("sens.md")));

        // A rerun reuses every stored measurement; another rule refuses the work folder instead of mixing them in.
        var again = SensitivityRun.Run(options, NullProgress.Instance, default);
        Assert.Equal(table.Entries, again.Entries);
        var other = Assert.Throws<GgufOptimizeException>(() => SensitivityRun.Run(options with { EarlyStopping = new SensitivityStopping(0.2, 4, 0.9) }, NullProgress.Instance, default));
        Assert.Contains("early stopping", other.Message);
    }
}
