using System.Text.Json;
using GgufOptimize.Tests.Support;
using GgufOptimize.Tests.Workflow;
using Xunit.Abstractions;

namespace GgufOptimize.Tests.Cli;

/// <summary>
/// Every long command on a real pseudo-terminal, where the live progress display is drawn: it must finish with
/// exit code 0, draw a bar, leave no stack trace, show the cursor again, and still print bare --json on stdout.
/// </summary>
[Collection("engine-workflow")]
public class TerminalProgressTests(ITestOutputHelper output)
{
    private const string Bar = "━";
    private const string HideCursor = "\u001b[?25l", ShowCursor = "\u001b[?25h";

    private JsonElement RunOnTerminal(TempDir dir, string name, params string[] args)
    {
        string json = dir.File(name + ".json");
        var r = PtyProcess.Run([.. args, "--json"], stdoutFile: json);
        output.WriteLine($"{name}: exit {r.ExitCode}, {r.Terminal.Length} bytes on the terminal");
        AssertDrawnCleanly(r, name);
        Assert.True(r.ExitCode == 0, $"{name} exited with {r.ExitCode}:\n{r.Terminal}");
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        return doc.RootElement.Clone();
    }

    private static void AssertDrawnCleanly(PtyProcess.Result r, string name)
    {
        Assert.DoesNotContain("Unhandled exception", r.Terminal);
        Assert.DoesNotContain("   at ", r.Terminal);
        Assert.True(r.Terminal.Contains(Bar) && r.Terminal.Contains('%'), $"{name}: no progress bar was drawn:\n{r.Terminal}");
        // Spectre hides the cursor while a bar is live; the last hide must be followed by a show.
        Assert.True(r.Terminal.LastIndexOf(ShowCursor, StringComparison.Ordinal) > r.Terminal.LastIndexOf(HideCursor, StringComparison.Ordinal),
            $"{name}: the cursor was left hidden");
    }

    [Slow]
    [SkippableFact]
    public void Logits_kld_quantize_imatrix_and_iterate_draw_progress_on_a_terminal()
    {
        PtyProcess.RequireScript();
        using var dir = new TempDir();
        string model = WorkflowAssets.Model;

        var logits = RunOnTerminal(dir, "logits", "logits", "-m", model, "-d", WorkflowAssets.Evaluation, "-o", dir.File("base.h5"), "-c", "128", "-t", "1");
        Assert.True(logits.GetProperty("TotalChunks").GetInt32() > 1);

        var quantized = RunOnTerminal(dir, "quantize", "quantize", "-m", model, "--types", "Q4_0", "-o", dir.Path, "-t", "1");
        string q4 = quantized[0].GetProperty("output").GetString()!;
        Assert.True(File.Exists(q4));

        var kld = RunOnTerminal(dir, "kld", "kld", "--baseline-logits", dir.File("base.h5"), "--target-model", q4, "-o", dir.File("cmp.h5"), "-t", "1");
        Assert.True(kld.GetProperty("overall").GetProperty("Average").GetDouble() > 0);

        var imatrix = RunOnTerminal(dir, "imatrix", "imatrix", "-m", model, "-d", WorkflowAssets.Calibration, "-o", dir.File("imat.gguf"), "-c", "128", "--to-chunk", "4", "-t", "1");
        Assert.Equal(4, imatrix.GetProperty("chunksEvaluated").GetInt32());

        var iterate = RunOnTerminal(dir, "iterate", "iterate", "-m", model, "-d", WorkflowAssets.Evaluation, "--calibration", WorkflowAssets.Calibration,
            "--calibration-unit", "chunks", "--subset-sizes", "2,6", "--types", "Q4_0", "-c", "128", "--eval-chunks", "8", "--resamples", "400",
            "-o", dir.File("loop"), "-t", "1");
        Assert.True(iterate.GetProperty("steps_run").GetInt32() >= 2);
    }

    [Slow]
    [SkippableFact]
    public void Demo_draws_progress_on_a_terminal_and_ends_it_cleanly_on_ctrl_c()
    {
        PtyProcess.RequireScript();
        using var dir = new TempDir();
        var demo = RunOnTerminal(dir, "demo", "demo", "--workdir", dir.File("demo"), "-t", "1");
        Assert.Equal(2, demo.GetProperty("types").GetArrayLength());

        // Ctrl-C while the first bar of a fresh run is live: exit 130, the interruption in one line, the cursor back.
        var interrupted = PtyProcess.Run(["demo", "--workdir", dir.File("again"), "-t", "1"], interruptWhen: t => t.Contains("sampling paragraphs") && t.Contains(Bar));
        output.WriteLine(interrupted.Terminal);
        Assert.Equal(130, interrupted.ExitCode);
        Assert.Contains("interrupted; completed work is kept", interrupted.Terminal);
        Assert.DoesNotContain("Unhandled exception", interrupted.Terminal);
        Assert.True(interrupted.Terminal.LastIndexOf(ShowCursor, StringComparison.Ordinal) > interrupted.Terminal.LastIndexOf(HideCursor, StringComparison.Ordinal),
            "the cursor was left hidden after Ctrl-C");
    }
}
