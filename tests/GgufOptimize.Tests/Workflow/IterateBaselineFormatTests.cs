using GgufOptimize.Common;
using GgufOptimize.Tests.Support;
using GgufOptimize.Workflow;

namespace GgufOptimize.Tests.Workflow;

/// <summary>
/// <c>iterate --baseline-logits</c> takes what <c>logits</c> writes by default (compact) as well as full files, and
/// decides the same on it; a llama.cpp .kld, which records no model or dataset, is refused in one line.
/// </summary>
[Collection("engine-workflow")]
public class IterateBaselineFormatTests
{
    private static string Baseline(TempDir dir, string name, params string[] extra)
    {
        var run = CliProcess.Run(["logits", "-m", WorkflowAssets.Model, "-d", WorkflowAssets.Evaluation, "-o", dir.File(name), "-c", "128", "--to-chunk", "6", "-t", "1", "-q", .. extra]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        return dir.File(name);
    }

    [Slow]
    [Fact]
    public async Task A_compact_baseline_from_logits_gives_the_decisions_of_a_full_one()
    {
        using var dir = new TempDir();
        string compact = Baseline(dir, "compact.h5"), full = Baseline(dir, "full.h5", "--format", "full");
        IterationPlan Plan(string baseline, string output) => WorkflowAssets.Plan(dir.File(output)) with
        {
            BaselineLogits = baseline, Dataset = null, SubsetSizes = [2, 6], Types = ["Q4_0"],
        };
        var fromCompact = await IterationLoop.RunAsync(Plan(compact, "c"), NullProgress.Instance);
        var fromFull = await IterationLoop.RunAsync(Plan(full, "f"), NullProgress.Instance);

        var c = Assert.Single(fromCompact.Types);
        var f = Assert.Single(fromFull.Types);
        Assert.Equal(f.Iterations.Count, c.Iterations.Count);
        Assert.Equal(f.Best.Iteration, c.Best.Iteration);
        foreach (var (ic, jf) in c.Iterations.Zip(f.Iterations))
        {
            Assert.InRange(ic.Overall.Score / jf.Overall.Score, 0.99, 1.01);
            Assert.Equal(jf.VersusPrevious?.Continue, ic.VersusPrevious?.Continue);
        }
    }

    [Fact]
    public async Task A_llama_cpp_baseline_is_refused_in_one_line()
    {
        using var dir = new TempDir();
        string kld = Baseline(dir, "base.kld");
        var plan = WorkflowAssets.Plan(dir.File("out")) with { BaselineLogits = kld };
        var e = await Assert.ThrowsAsync<GgufOptimizeException>(() => IterationLoop.RunAsync(plan, NullProgress.Instance));
        Assert.Equal(FailureKind.BadInput, e.Kind);
        Assert.Contains("llama.cpp .kld", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
