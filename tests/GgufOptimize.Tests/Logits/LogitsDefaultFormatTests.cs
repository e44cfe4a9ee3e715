using GgufOptimize.Storage;
using GgufOptimize.Storage.Formats;
using GgufOptimize.Tests.Support;
using GgufOptimize.Tests.Workflow;

namespace GgufOptimize.Tests.Logits;

/// <summary>
/// compact is what <c>logits</c> writes when no format is named (issue 13), full is one option away, options only
/// full rows have choose full, and an output already there (finished or a .partial) continues in its own format, so the
/// same command typed again resumes whatever an earlier run or an earlier default began.
/// </summary>
[Collection("engine-workflow")]
public class LogitsDefaultFormatTests
{
    private static string[] Args(string output, params string[] extra) =>
        ["logits", "-m", WorkflowAssets.Model, "-d", WorkflowAssets.Evaluation, "-o", output, "-c", "64", "-t", "1", "-q", .. extra];

    private static string Kind(string path) => StoredBaselines.Detect(path).ToString();

    private static void Succeeds(string[] args)
    {
        var run = CliProcess.Run(args);
        Assert.True(run.ExitCode == 0, run.Stderr);
    }

    [Fact]
    public void A_new_output_is_compact_and_full_is_one_option_away()
    {
        using var dir = new TempDir();
        Succeeds(Args(dir.File("default.h5"), "--to-chunk", "1"));
        Assert.Equal(StoredLogitsKind.QuantizedCompact, StoredBaselines.Detect(dir.File("default.h5")));
        Succeeds(Args(dir.File("full.h5"), "--to-chunk", "1", "--format", "full"));
        Assert.Equal(StoredLogitsKind.Full, StoredBaselines.Detect(dir.File("full.h5")));
        // llama-perplexity's users name a baseline .kld: such a name gets its format.
        Succeeds(Args(dir.File("base.kld"), "--to-chunk", "1"));
        Assert.Equal(StoredLogitsKind.LlamaCpp, StoredBaselines.Detect(dir.File("base.kld")));
    }

    [Theory]
    [InlineData("--precision", "16", "Full")]
    [InlineData("--precision", "32", "Full")]
    [InlineData("--compression", "lzf", "FullCompressed")]
    public void Options_only_full_rows_have_choose_full(string option, string value, string expected)
    {
        using var dir = new TempDir();
        Succeeds(Args(dir.File("b.h5"), "--to-chunk", "1", option, value));
        Assert.Equal(expected, Kind(dir.File("b.h5")));
    }

    [Fact]
    public void Naming_compact_with_a_full_only_option_is_refused()
    {
        using var dir = new TempDir();
        var run = CliProcess.Run(Args(dir.File("b.h5"), "--to-chunk", "1", "--format", "compact", "--precision", "16"));
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--precision", Assert.Single(run.Stderr.Trim().Split('\n')));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Theory]
    [InlineData("full", "Full")]
    [InlineData("compact-1", "Compact")]
    [InlineData("compact", "QuantizedCompact")]
    public void A_finished_output_is_extended_in_its_own_format(string format, string expected)
    {
        using var dir = new TempDir();
        string output = dir.File("b.h5");
        Succeeds(Args(output, "--to-chunk", "1", "--format", format));
        var more = CliProcess.Run([.. Args(output, "--to-chunk", "2"), "--json"]);
        Assert.True(more.ExitCode == 0, more.Stderr);
        Assert.Contains("\"ChunksAlreadyDone\":1", more.Stdout.Replace(" ", ""));
        Assert.Equal(expected, Kind(output));
    }

    [Theory]
    [InlineData("full", "Full")]
    [InlineData("compact-1", "Compact")]
    public void An_interrupted_output_resumes_in_its_own_format_and_says_so(string format, string expected)
    {
        using var dir = new TempDir();
        string output = dir.File("b.h5"), partial = BaselineLayout.PartialPath(output);
        using (var process = CliProcess.Start(Args(output, "--format", format)))
        {
            process.StandardOutput.ReadToEndAsync();
            process.StandardError.ReadToEndAsync();
            while (!File.Exists(partial) && !process.HasExited) Thread.Sleep(2);
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        Assert.True(File.Exists(partial) && !File.Exists(output), "the run was to be killed with only its working file written");

        var resumed = CliProcess.Run(Args(output).Where(a => a != "-q").ToArray());
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains($"'{partial}' exists: continuing it in its own format ({format})", resumed.Stderr);
        Assert.Equal(expected, Kind(output));
    }

    [Fact]
    public void An_output_that_is_no_baseline_is_refused_as_before()
    {
        using var dir = new TempDir();
        string output = dir.File("b.h5");
        File.WriteAllText(output, "not a baseline");
        var run = CliProcess.Run(Args(output, "--to-chunk", "1"));
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("b.h5", Assert.Single(run.Stderr.Trim().Split('\n')));
        Assert.Equal("not a baseline", File.ReadAllText(output));
    }
}
