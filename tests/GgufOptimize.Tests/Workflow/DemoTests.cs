using System.Text.Json;
using GgufOptimize.Tests.Support;
using Xunit.Abstractions;

namespace GgufOptimize.Tests.Workflow;

[Collection("engine-workflow")]
public class DemoTests(ITestOutputHelper output)
{
    [Slow]
    [Fact]
    public void Demo_runs_the_loop_where_the_imatrix_visibly_matters()
    {
        using var dir = new TempDir();
        var run = CliProcess.Run(TimeSpan.FromMinutes(10), "demo", "--workdir", dir.File("demo"), "--threads", "1", "-q");
        output.WriteLine(run.Stdout);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("| Q4_0 | 0 | none |", run.Stdout);
        Assert.Contains("| Q4_K_M | 1 | 50 samples |", run.Stdout);
        Assert.Contains($"report: {dir.File("demo/run/report/report.html")}", run.Stdout);

        var report = JsonDocument.Parse(File.ReadAllText(dir.File("demo/run/report/report.json"))).RootElement;
        foreach (var type in report.GetProperty("types").EnumerateArray())
        {
            // The first imatrix lowers the Score of both types significantly: the demo model is made for that.
            var first = type.GetProperty("iterations")[1].GetProperty("vs_previous");
            Assert.True(first.GetProperty("significant").GetBoolean());
            Assert.True(first.GetProperty("relative_change").GetDouble() < -0.05, type.GetProperty("type").GetString());
            Assert.True(type.GetProperty("best_iteration").GetInt32() >= 1);

            // The conclusion states the bottom line, with the change computed from the report's own Scores.
            var iterations = type.GetProperty("iterations").EnumerateArray().ToList();
            var best = iterations.Single(i => i.GetProperty("best").GetBoolean());
            double change = best.GetProperty("score").GetDouble() / iterations[0].GetProperty("score").GetDouble() - 1;
            Assert.Contains($"With an imatrix from {best.GetProperty("calibration").GetString()}, {type.GetProperty("type").GetString()}'s Score is "
                + $"{GgufOptimize.Reporting.ReportConclusions.Percent(change)} lower than without", run.Stdout);
            // A PPL ratio below 1 is explained where it occurs.
            if (iterations.Any(i => i.GetProperty("statistics").GetProperty("PPL_ratio").GetDouble() < 1))
                Assert.Matches($"{type.GetProperty("type").GetString()} [^\n]*PPL ratios? below 1[^\n]*: the quantized model happens to give this text's actual next tokens more probability", run.Stdout);
        }
        Assert.Contains("Conclusion:", run.Stdout);

        // Without --workdir only the report is kept.
        var temp = CliProcess.Run(TimeSpan.FromMinutes(10), "demo", "--threads", "1", "-q");
        Assert.True(temp.ExitCode == 0, temp.Stderr);
        string html = temp.Stdout.Split('\n').First(l => l.StartsWith("report: ")).Split(' ')[1];
        string folder = Path.GetDirectoryName(html)!;
        string workdir = Path.GetFullPath(Path.Combine(folder, "..", ".."));
        try
        {
            Assert.True(File.Exists(html));
            Assert.Equal(File.ReadAllText(dir.File("demo/run/report/report.md")), File.ReadAllText(Path.Combine(folder, "report.md")));
            Assert.Empty(Directory.GetFiles(workdir, "*.gguf", SearchOption.AllDirectories));
        }
        finally { Directory.Delete(workdir, recursive: true); }
    }
}
