using System.Diagnostics;
using GgufOptimize.Common;
using GgufOptimize.Tests.Support;
using GgufOptimize.Tests.Workflow;

namespace GgufOptimize.Tests.Reliability;

/// <summary>
/// A second writer of the same output is refused at once (exit 2, one line naming the process that holds it),
/// for every command that writes an output, and a killed holder never blocks the next run.
/// </summary>
[Collection("engine-workflow")]
public class ConcurrentWriterTests
{
    [Slow]
    [Fact]
    public void Every_command_refuses_an_output_another_process_is_writing()
    {
        using var dir = new TempDir();
        string baseline = dir.File("base.h5"), comparison = dir.File("cmp.h5");
        Assert.Equal(0, CliProcess.Run("logits", "-m", WorkflowAssets.Model, "-d", WorkflowAssets.Evaluation, "-o", baseline, "-t", "1", "-q").ExitCode);
        Assert.Equal(0, CliProcess.Run("kld", "--baseline-logits", baseline, "--target-model", WorkflowAssets.Model, "-o", comparison, "--to-chunk", "2", "-t", "1", "-q").ExitCode);

        var cases = new (string Output, string[] Args)[]
        {
            (dir.File("l.h5"), ["logits", "-m", WorkflowAssets.Model, "-d", WorkflowAssets.Evaluation, "-o", dir.File("l.h5"), "-t", "1"]),
            (dir.File("k.h5"), ["kld", "--baseline-logits", baseline, "--target-model", WorkflowAssets.Model, "-o", dir.File("k.h5"), "-t", "1"]),
            (dir.File("i.gguf"), ["imatrix", "-m", WorkflowAssets.Model, "-d", WorkflowAssets.Calibration, "-o", dir.File("i.gguf"), "-t", "1"]),
            (dir.File("q/m-Q8_0.gguf"), ["quantize", "-m", WorkflowAssets.Model, "--types", "Q8_0", "--name", "m", "--output-dir", dir.File("q")]),
            (dir.File("d.txt"), ["dataset", "--source", WorkflowAssets.Evaluation, "-n", "5", "-o", dir.File("d.txt")]),
            (dir.File("runs/it"), ["iterate", "--model", WorkflowAssets.Model, "--dataset", WorkflowAssets.Evaluation, "--calibration", WorkflowAssets.Calibration,
                "--calibration-unit", "chunks", "--subset-sizes", "2", "--types", "Q8_0", "--output", dir.File("runs/it"), "--threads", "1"]),
            (dir.File("rep"), ["report", comparison, "--output", dir.File("rep")]),
        };
        Directory.CreateDirectory(dir.File("q"));
        foreach (var (output, args) in cases)
        {
            using (OutputLock.Acquire(output, "--output"))
            {
                var run = CliProcess.Run(args);
                string command = args[0];
                Assert.True(run.ExitCode == 2, $"{command}: exit {run.ExitCode}, stderr: {run.Stderr}");
                string error = run.Stderr.Trim().Split('\n').Last();
                Assert.Contains("is being written by another process", error);
                Assert.Contains($"pid {Environment.ProcessId}", error);
                Assert.DoesNotContain("   at ", run.Stderr);
                Assert.False(File.Exists(output) && new FileInfo(output).Length > 0 && command != "quantize", $"{command} wrote its output while refused");
            }
            Assert.False(File.Exists(OutputLock.LockPathOf(output)), "the lock file outlived its holder");
        }
        Assert.False(File.Exists(dir.File("q/m-Q8_0.gguf")), "quantize wrote a model while refused");
    }

    [Slow]
    [Fact]
    public void A_second_process_is_refused_naming_the_first_and_a_killed_holder_releases_the_output()
    {
        using var dir = new TempDir();
        string output = dir.File("base.h5");
        // Tiny chunks make the run long enough to be caught in the middle.
        string[] args = ["logits", "-m", WorkflowAssets.Model, "-d", WorkflowAssets.Evaluation, "-o", output, "-c", "16", "-b", "4", "-t", "1", "-q"];
        using var first = CliProcess.Start(args);
        first.StandardOutput.ReadToEndAsync();
        first.StandardError.ReadToEndAsync();
        var clock = Stopwatch.StartNew();
        while (!File.Exists(OutputLock.LockPathOf(output)) && !first.HasExited && clock.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(5);
        Assert.False(first.HasExited, "the first run ended before its output could be contended");

        var second = CliProcess.Run(args);
        Assert.False(first.HasExited, "the first run ended while the second ran; the test proved nothing");
        Assert.Equal(2, second.ExitCode);
        Assert.Contains($"pid {first.Id}", second.Stderr);

        first.Kill(entireProcessTree: true);
        first.WaitForExit();
        Assert.True(File.Exists(OutputLock.LockPathOf(output)), "a killed holder leaves its lock file (the kernel releases the lock itself)");

        var third = CliProcess.Run(args);
        Assert.True(third.ExitCode == 0, third.Stderr);
        Assert.True(File.Exists(output));
        Assert.False(File.Exists(OutputLock.LockPathOf(output)), "the lock file was not removed by the run that finished");
    }

    [Fact]
    public void A_claim_inside_one_process_is_exclusive_too_and_released_on_dispose()
    {
        using var dir = new TempDir();
        string output = dir.File("x.h5");
        using (OutputLock.Acquire(output, "--output"))
        {
            var e = Assert.Throws<GgufOptimizeException>(() => OutputLock.Acquire(output, "--output"));
            Assert.Equal(FailureKind.BadInput, e.Kind);
        }
        using (OutputLock.Acquire(output, "--output")) { }
        Assert.False(File.Exists(OutputLock.LockPathOf(output)));
    }
}
