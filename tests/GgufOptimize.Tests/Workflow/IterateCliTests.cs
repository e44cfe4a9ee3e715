using System.Text.Json;
using GgufOptimize.Tests.Support;
using Xunit.Abstractions;

namespace GgufOptimize.Tests.Workflow;

[Collection("engine-workflow")]
public class IterateCliTests(ITestOutputHelper output)
{
    private static string WritePlan(TempDir dir, string name, string outputFolder, string types = "[Q4_0]", int evalChunks = 10)
    {
        string path = dir.File(name);
        File.WriteAllText(path, $"""
            # evaluation on generated text; calibration subsets as chunk counts of one file
            model: {WorkflowAssets.Model}
            dataset: {WorkflowAssets.Evaluation}
            calibration: {WorkflowAssets.Calibration}
            calibration_unit: chunks
            subset_sizes: [2, 6, 14]
            types: {types}
            eval_chunks: {evalChunks}
            context_size: 128
            resamples: 400
            output: {outputFolder}
            """);
        return path;
    }

    [Slow]
    [Fact]
    public void Killed_at_random_steps_the_same_command_finishes_with_the_uninterrupted_report()
    {
        using var dir = new TempDir();
        string[] Args(string plan) => ["iterate", "--config", plan, "--threads", "1", "-q"];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var reference = CliProcess.Run(Args(WritePlan(dir, "ref.yaml", dir.File("ref"), "[Q4_0, Q4_K_M]", 0)));
        double seconds = clock.Elapsed.TotalSeconds;
        Assert.True(reference.ExitCode == 0, reference.Stderr);
        output.WriteLine(reference.Stdout);

        string plan = WritePlan(dir, "killed.yaml", dir.File("killed"), "[Q4_0, Q4_K_M]", 0);
        var rng = new Random(11);
        int kills = 0;
        // Kill points spread over the uninterrupted run's duration, so they land in different steps.
        for (int attempt = 0; attempt < 12 && kills < 5; attempt++)
        {
            if (!CliProcess.RunAndKill(TimeSpan.FromSeconds(seconds * (0.1 + 0.7 * rng.NextDouble())), Args(plan)))
            {
                if (kills >= 2) break;
                // The machine got faster than during the reference run: start over with earlier kill points.
                Directory.Delete(dir.File("killed"), recursive: true);
                seconds /= 2;
                kills = 0;
                continue;
            }
            kills++;
            string state = dir.File("killed/state.json");
            output.WriteLine($"kill {kills} (reference run {seconds:F1} s): {(File.Exists(state) ? JsonDocument.Parse(File.ReadAllText(state)).RootElement.GetProperty("steps").EnumerateObject().Count(s => s.Value.GetProperty("done").GetBoolean()) : 0)} steps done");
        }
        Assert.True(kills >= 2, $"only {kills} run(s) were interrupted");
        var resumed = CliProcess.Run(Args(plan));
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        foreach (var file in new[] { "report.md", "report.json", "report.csv", "report.html" })
            Assert.Equal(File.ReadAllText(dir.File($"ref/report/{file}")), File.ReadAllText(dir.File($"killed/report/{file}")));
        Assert.Equal(reference.Stdout.Replace(dir.File("ref"), dir.File("killed")).Split('\n').Where(l => !l.Contains("step(s) run")),
            resumed.Stdout.Split('\n').Where(l => !l.Contains("step(s) run")));

        // Finished: the same command again reuses every step.
        var again = CliProcess.Run(Args(plan));
        Assert.Contains("0 step(s) run", again.Stdout);
    }

    [Slow]
    [Fact]
    public void Options_override_the_plan_and_bad_plans_fail_in_one_line()
    {
        using var dir = new TempDir();
        string plan = WritePlan(dir, "p.yaml", dir.File("out"));
        File.AppendAllText(plan, "\ncolour: blue\n");
        var unknown = CliProcess.Run("iterate", "--config", plan);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("unknown key 'colour'; valid keys: model, dataset", unknown.Stderr);
        Assert.Single(unknown.Stderr.Trim().Split('\n'));

        var badType = CliProcess.Run("iterate", "--config", WritePlan(dir, "q.yaml", dir.File("out")), "--types", "Q4_0,Q9_9");
        Assert.Equal(2, badType.ExitCode);
        Assert.Contains("unknown quantization type 'Q9_9'", badType.Stderr);
        Assert.False(Directory.Exists(dir.File("out/quant")));

        var json = CliProcess.Run("iterate", "--config", WritePlan(dir, "r.yaml", dir.File("out")), "--types", "Q8_0", "--subset-sizes", "2",
            "--output", dir.File("json"), "--threads", "1", "--early-stopping", "--margin-of-error", "0.5", "--min-chunks", "3", "--json", "-q");
        Assert.True(json.ExitCode == 0, json.Stderr);
        var root = JsonDocument.Parse(json.Stdout).RootElement;
        var type = Assert.Single(root.GetProperty("types").EnumerateArray());
        Assert.Equal("Q8_0", type.GetProperty("type").GetString());
        Assert.Equal(2, type.GetProperty("iterations").GetArrayLength());
        Assert.True(root.GetProperty("stop_reasons").TryGetProperty("Q8_0", out _));
        // The bare --early-stopping flag took effect: a loose margin stops the first comparison early.
        Assert.InRange(root.GetProperty("evaluation_chunks").GetInt32(), 3, 9);
    }

    [Fact]
    public void Help_lists_every_plan_key_as_an_option_with_its_default()
    {
        var help = CliProcess.Run("iterate", "--help");
        Assert.Equal(0, help.ExitCode);
        foreach (var key in GgufOptimize.Workflow.PlanFile.ValidKeys)
            Assert.Contains(GgufOptimize.Workflow.PlanFile.OptionName(key), help.Stdout);
        Assert.Contains("(default: 0.01)", help.Stdout);
    }
}
