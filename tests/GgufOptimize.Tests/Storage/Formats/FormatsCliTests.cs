using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Storage.Formats;

public class FormatsCliTests
{
    /// <summary>kill -9 at random moments, then a rerun: the final file equals an uninterrupted run's, byte for byte.</summary>
    [Slow]
    [SkippableTheory]
    [InlineData("compact", "--tail-mass", "0.01")]
    [InlineData("compact-1", "--tail-mass", "0.01")]
    [InlineData("llamacpp", "--batch-size", "8")]
    public void Killed_runs_of_every_format_resume_to_the_uninterrupted_file(string format, string option, string value)
    {
        using var tmp = new TempDir();
        string data = tmp.File("data.txt");
        File.WriteAllText(data, File.ReadAllText(SharedAssets.AidreamsText));
        string[] Args(string output) => ["logits", "-m", SharedAssets.AidreamsModel, "-d", data, "-o", output, "-c", "32", "-t", "1", "--format", format, option, value, "--quiet"];

        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(0, CliProcess.Run(Args(tmp.File("ref.out"))).ExitCode);
        double runMs = clock.Elapsed.TotalMilliseconds;

        string output = tmp.File("resumed.out");
        var rng = new Random(11);
        int kills = 0;
        for (int attempt = 0; attempt < 12 && kills < 4; attempt++)
        {
            using var process = CliProcess.Start(Args(output));
            process.StandardOutput.ReadToEndAsync();
            process.StandardError.ReadToEndAsync();
            while (!File.Exists(output + ".partial") && !process.HasExited) Thread.Sleep(5);
            if (!process.WaitForExit(TimeSpan.FromMilliseconds(rng.NextDouble() * runMs / 6)))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                kills++;
            }
            if (File.Exists(output)) break;
        }
        Assert.True(kills >= 1, "no run was interrupted");
        Assert.False(File.Exists(output), "a killed run left a file under the final name");
        Assert.True(File.Exists(output + ".partial"));

        Assert.Equal(0, CliProcess.Run(Args(output)).ExitCode);
        Assert.False(File.Exists(output + ".partial"));
        Assert.Equal(File.ReadAllBytes(tmp.File("ref.out")), File.ReadAllBytes(output));
    }

    [Slow]
    [SkippableTheory]
    [InlineData("bad-format", "--format")]
    [InlineData("tail-mass-zero", "--tail-mass")]
    [InlineData("tail-mass-one", "--tail-mass")]
    [InlineData("llamacpp-from", "--from-chunk")]
    [InlineData("compact-half", "--precision")]
    [InlineData("compact-gzip", "--compression")]
    public void Bad_format_options_give_one_error_line_exit_2_and_no_output(string scenario, string expect)
    {
        SharedAssets.RequireRoot();
        using var tmp = new TempDir();
        string data = tmp.File("data.txt"), output = tmp.File("out.h5");
        File.WriteAllText(data, File.ReadAllText(SharedAssets.AidreamsText)[..3000]);
        string[] extra = scenario switch
        {
            "bad-format" => ["--format", "parquet"],
            "tail-mass-zero" => ["--format", "compact", "--tail-mass", "0"],
            "tail-mass-one" => ["--format", "compact", "--tail-mass", "1"],
            "llamacpp-from" => ["--format", "llamacpp", "--from-chunk", "1"],
            "compact-half" => ["--format", "compact", "--precision", "16"],
            "compact-gzip" => ["--format", "compact", "--compression", "gzip"],
            _ => throw new ArgumentException(scenario),
        };
        var r = CliProcess.Run(["logits", "-m", SharedAssets.AidreamsModel, "-d", data, "-o", output, .. extra]);
        Assert.Equal(2, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains(expect, lines[0]);
        Assert.False(File.Exists(output));
        Assert.False(File.Exists(output + ".partial"));
    }
}
