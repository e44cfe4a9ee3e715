using GgufOptimize.Tests.Support;
using GgufOptimize.Tests.Workflow;

namespace GgufOptimize.Tests.Quantization;

/// <summary>Quantizing onto a disk without room for the models is refused before llama.cpp writes anything.</summary>
[Collection("engine-workflow")]
public sealed class QuantizeDiskFullTests : IDisposable
{
    private readonly SmallTmpfs _disk = new();

    public void Dispose() => _disk.Dispose();

    [SkippableFact]
    public void Too_little_space_for_the_models_is_one_line_before_any_work()
    {
        Skip.IfNot(_disk.Mount("4M"), "mounting a tmpfs needs root; skipped");
        var run = CliProcess.Run("quantize", "-m", WorkflowAssets.Model, "--types", "Q8_0,Q4_0", "--output-dir", _disk.File("q"), "-q");
        Assert.Equal(1, run.ExitCode);
        string line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("not enough disk space for the quantized model(s) in", line);
        Assert.DoesNotContain("iostream", line);
        Assert.Empty(Directory.GetFiles(_disk.File("q")));
    }
}
