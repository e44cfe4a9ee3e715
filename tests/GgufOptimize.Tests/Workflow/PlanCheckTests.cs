using GgufOptimize.Common;
using GgufOptimize.Logits;
using GgufOptimize.Synthetic;
using GgufOptimize.Tests.Support;
using GgufOptimize.Workflow;

namespace GgufOptimize.Tests.Workflow;

/// <summary>Bad plans fail in the checks before any long work: one line, nothing written to the output folder.</summary>
[Collection("engine-workflow")]
public class PlanCheckTests
{
    private static async Task<string> Refused(TempDir dir, Func<IterationPlan, IterationPlan> change)
    {
        var plan = change(WorkflowAssets.Plan(dir.File("out")));
        var e = await Assert.ThrowsAsync<GgufOptimizeException>(() => IterationLoop.RunAsync(plan, NullProgress.Instance));
        Assert.Equal(FailureKind.BadInput, e.Kind);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(File.Exists(dir.File("out/state.json")), "a refused plan must not start work");
        Assert.False(Directory.Exists(dir.File("out/quant")));
        return e.Message;
    }

    [Slow]
    [Fact]
    public async Task Missing_files_are_named()
    {
        using var dir = new TempDir();
        Assert.Contains("model '/nope/m.gguf' does not exist", await Refused(dir, p => p with { Model = "/nope/m.gguf" }));
        Assert.Contains("dataset '/nope/e.txt' does not exist", await Refused(dir, p => p with { Dataset = "/nope/e.txt" }));
        Assert.Contains("calibration source '/nope/c.txt' does not exist", await Refused(dir, p => p with { Calibration = "/nope/c.txt" }));
        Assert.Contains("baseline logits '/nope/b.h5' do not exist", await Refused(dir, p => p with { BaselineLogits = "/nope/b.h5" }));
        Assert.Contains("no evaluation data", await Refused(dir, p => p with { Dataset = null }));
    }

    [Fact]
    public async Task Sizes_types_and_numbers_are_checked()
    {
        using var dir = new TempDir();
        Assert.Contains("subset sizes must increase: 6 follows 6", await Refused(dir, p => p with { SubsetSizes = [2, 6, 6] }));
        Assert.Contains("subset size 0 must be positive", await Refused(dir, p => p with { SubsetSizes = [0, 6] }));
        Assert.Contains("no calibration subset sizes", await Refused(dir, p => p with { SubsetSizes = [] }));
        Assert.Contains("unknown quantization type 'Q4_X'", await Refused(dir, p => p with { Types = ["Q4_0", "Q4_X"] }));
        Assert.Contains("listed twice", await Refused(dir, p => p with { Types = ["Q4_0", "q4_0"] }));
        Assert.Contains("confidence must be between 0 and 1", await Refused(dir, p => p with { Confidence = 1.5 }));
        Assert.Contains("min_improvement must be a fraction", await Refused(dir, p => p with { MinImprovement = 5 }));
        Assert.Contains("larger than the model's training context", await Refused(dir, p => p with { ContextSize = 4096 }));
        Assert.Contains("needs one text file", await Refused(dir, p => p with { Calibration = "jsonl:" + WorkflowAssets.Calibration, CalibrationUnit = CalibrationUnit.Tokens }));
    }

    [Fact]
    public async Task Baseline_logits_from_another_model_are_refused()
    {
        using var dir = new TempDir();
        string other = dir.File("other.gguf");
        SyntheticModel.Write(other, WorkflowAssets.ModelOptions with { Seed = 99 });
        LogitsJob.Run(new LogitsJobOptions { ModelPath = other, DatasetPath = WorkflowAssets.Evaluation, OutputPath = dir.File("other.h5"), ContextSize = 128, ToChunk = 2, Threads = 1 }, NullProgress.Instance, default);
        string message = await Refused(dir, p => p with { BaselineLogits = dir.File("other.h5") });
        Assert.Contains("were made from model 'other.gguf'", message);

        LogitsJob.Run(new LogitsJobOptions { ModelPath = WorkflowAssets.Model, DatasetPath = WorkflowAssets.Evaluation, OutputPath = dir.File("own.h5"), ContextSize = 64, ToChunk = 2, Threads = 1 }, NullProgress.Instance, default);
        Assert.Contains("context_size 128 differs from the baseline logits' chunks of 64", await Refused(dir, p => p with { BaselineLogits = dir.File("own.h5") }));
        Assert.Contains("were made from dataset", await Refused(dir, p => p with { BaselineLogits = dir.File("own.h5"), ContextSize = 0, Dataset = WorkflowAssets.Calibration }));
    }
}
