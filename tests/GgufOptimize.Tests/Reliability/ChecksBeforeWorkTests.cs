using System.Diagnostics;
using GgufOptimize.Tests.Support;
using GgufOptimize.Tests.Workflow;

namespace GgufOptimize.Tests.Reliability;

/// <summary>
/// Mistakes in what a run will write are refused before the long work, with exit 2 and one line naming the option
/// or plan field and the fix: nothing is computed first (no baseline, no comparison is left behind).
/// </summary>
[Collection("engine-workflow")]
public class ChecksBeforeWorkTests
{
    private static string[] Iterate(string output, params string[] extra) =>
        ["iterate", "--model", WorkflowAssets.Model, "--dataset", WorkflowAssets.Evaluation, "--calibration", WorkflowAssets.Calibration,
            "--calibration-unit", "chunks", "--subset-sizes", "2", "--types", "Q8_0", "--output", output, "--threads", "1", "-q", .. extra];

    private static void AssertRefusedEarly(CliProcess.Result run, string names, string folder)
    {
        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}: {run.Stderr}");
        var lines = run.Stderr.Trim().Split('\n');
        Assert.Single(lines);
        Assert.Contains(names, lines[0]);
        Assert.DoesNotContain("   at ", run.Stderr);
        // Nothing but the (empty) output folder: the baseline was never computed.
        var written = Directory.Exists(folder) ? Directory.GetFileSystemEntries(folder, "*", SearchOption.AllDirectories) : [];
        Assert.True(written.Length == 0, "written before the check: " + string.Join(", ", written));
    }

    [Slow]
    [Fact]
    public void Iterate_checks_the_name_before_computing_the_baseline()
    {
        using var dir = new TempDir();
        string output = dir.File("it");
        var run = CliProcess.Run(Iterate(output, "--name", new string('n', 240)));
        AssertRefusedEarly(run, "name", output);
        Assert.Contains("set 'name'", run.Stderr);
    }

    [Slow]
    [Fact]
    public void Iterate_checks_calibration_languages_before_computing_the_baseline()
    {
        using var dir = new TempDir();
        string output = dir.File("it");
        // Languages need samples with a language: a plain text source in chunks has none.
        var run = CliProcess.Run(Iterate(output, "--calibration-languages", "en,fr"));
        AssertRefusedEarly(run, "calibration_languages", output);

        var samples = CliProcess.Run(["iterate", "--model", WorkflowAssets.Model, "--dataset", WorkflowAssets.Evaluation, "--calibration", WorkflowAssets.Calibration,
            "--calibration-unit", "samples", "--subset-sizes", "2", "--types", "Q8_0", "--output", output, "--threads", "1", "-q", "--calibration-languages", "en,fr"]);
        AssertRefusedEarly(samples, "calibration_language_field", output);
    }

    [Slow]
    [Fact]
    public void Kld_checks_its_json_file_before_the_comparison()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("report.json"));
        var clock = Stopwatch.StartNew();
        var run = CliProcess.Run("kld", "--baseline-model", WorkflowAssets.Model, "--dataset", WorkflowAssets.Evaluation, "--target-model", WorkflowAssets.Model,
            "-o", dir.File("cmp.h5"), "-t", "1", "-q", "--json", dir.File("report.json"));
        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}: {run.Stderr}");
        string line = Assert.Single(run.Stderr.Trim().Split('\n'));
        Assert.Contains("--json", line);
        Assert.Contains("is a directory", line);
        Assert.False(File.Exists(dir.File("cmp.h5")), "the comparison ran before the --json path was checked");
        Assert.False(Directory.Exists(dir.File("cmp.h5.parts")));

        var missing = CliProcess.Run("kld", "--baseline-model", WorkflowAssets.Model, "--dataset", WorkflowAssets.Evaluation, "--target-model", WorkflowAssets.Model,
            "-o", dir.File("cmp.h5"), "-t", "1", "-q", "--json", dir.File("no/such/folder/r.json"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--json", missing.Stderr);
        Assert.False(File.Exists(dir.File("cmp.h5")));
    }
}
