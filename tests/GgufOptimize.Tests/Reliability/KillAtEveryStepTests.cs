using System.Text.RegularExpressions;
using GgufOptimize.Tests.Support;
using GgufOptimize.Tests.Workflow;
using Xunit.Abstractions;

namespace GgufOptimize.Tests.Reliability;

/// <summary>
/// Every command that writes survives a SIGKILL right after any of its file-system steps: the same command run again
/// (no --overwrite) exits 0 with the output an uninterrupted run makes and nothing else left in its folder
/// (<see cref="KillPoints"/>). Runs use the synthetic workflow model on a few 64-token chunks.
/// </summary>
[Collection("engine-workflow")]
public partial class KillAtEveryStepTests(ITestOutputHelper output)
{
    private static readonly Lazy<(string Text, string Baseline)> Inputs = new(() =>
    {
        string folder = Directory.CreateTempSubdirectory("ggufopt-killpoints-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(folder, true); } catch (IOException) { } };
        string text = Path.Combine(folder, "small.txt");
        string all = File.ReadAllText(WorkflowAssets.Evaluation);
        File.WriteAllText(text, all[..(all.Length / 10)]);
        string baseline = Path.Combine(folder, "base.h5");
        var run = CliProcess.Run("logits", "-m", WorkflowAssets.Model, "-d", text, "-o", baseline, "-c", "64", "-t", "1", "-q", "--format", "full");
        Assert.True(run.ExitCode == 0, run.Stderr);
        return (text, baseline);
    });

    private static string Text => Inputs.Value.Text;

    private static string[] Logits(params string[] extra) =>
        ["logits", "-m", WorkflowAssets.Model, "-d", Text, "-o", "out.h5", "-c", "64", "-t", "1", "-q", .. extra];

    private void Check(string[] args, params KillPoints.Volatile[] volatileFiles)
    {
        var report = KillPoints.Check(args, volatileFiles);
        output.WriteLine($"{args[0]}: {report.Steps} steps, {report.Labels} distinct, {report.Kills} kills");
    }

    [Slow, Fact] public void Logits_float32() => Check(Logits("--format", "full"));

    [Slow, Fact] public void Logits_default_format() => Check(Logits());

    [Slow, Fact] public void Logits_float16() => Check(Logits("--precision", "16"));

    [Slow, Fact] public void Logits_compact() => Check(Logits("--format", "compact"));

    [Slow, Fact] public void Logits_compact1() => Check(Logits("--format", "compact-1"));

    [Slow, Fact]
    public void Kld_from_a_compact_baseline()
    {
        string compact = Path.Combine(Path.GetDirectoryName(Inputs.Value.Baseline)!, "base.compact.h5");
        lock (Inputs)
        {
            if (!File.Exists(compact))
            {
                var run = CliProcess.Run("logits", "-m", WorkflowAssets.Model, "-d", Text, "-o", compact, "-c", "64", "-t", "1", "-q", "--format", "compact");
                Assert.True(run.ExitCode == 0, run.Stderr);
            }
        }
        Check(["kld", "--baseline-logits", compact, "--target-model", WorkflowAssets.Model, "-o", "cmp.h5", "-t", "1", "-q"]);
    }

    [Slow, Fact] public void Logits_llamacpp() => Check(["logits", "-m", WorkflowAssets.Model, "-d", Text, "-o", "out.kld", "-c", "64", "-t", "1", "-q", "--format", "llamacpp"]);

    [Slow, Fact] public void Logits_gzip() => Check(Logits("--compression", "gzip"));

    [Slow, Fact]
    public void Kld_from_stored_logits() =>
        Check(["kld", "--baseline-logits", Inputs.Value.Baseline, "--target-model", WorkflowAssets.Model, "-o", "cmp.h5", "-t", "1", "-q"]);

    [Slow, Fact]
    public void Kld_from_a_model_keeping_its_logits() =>
        Check(["kld", "--baseline-model", WorkflowAssets.Model, "--dataset", Text, "--target-model", WorkflowAssets.Model, "-c", "64",
            "--keep-logits", "keep.h5", "-o", "cmp.h5", "-t", "1", "-q"]);

    [Slow, Fact]
    public void Dataset_with_subsets() =>
        Check(["dataset", "--source", WorkflowAssets.Evaluation, "--split", "line", "--subsets", "3,6,9", "--output-dir", "ds", "-q"],
            new KillPoints.Volatile("ds/manifest.json", WithoutCreated));

    [Slow, Fact]
    public void Imatrix() => Check(["imatrix", "-m", WorkflowAssets.Model, "-d", Text, "-o", "imatrix.gguf", "-c", "64", "-t", "1", "-q"]);

    [Slow, Fact]
    public void Quantize() => Check(["quantize", "-m", WorkflowAssets.Model, "--types", "Q8_0", "--name", "m", "--output-dir", "q", "-q"]);

    /// <summary>
    /// The loop has dozens of steps (baseline, imatrix, model, comparison, report, each resumable on its own and
    /// tested above); here the kills aim at what only iterate writes: its state file and its folders.
    /// </summary>
    [Slow, Fact]
    public void Iterate_state_and_folders()
    {
        var report = KillPoints.Check(["iterate", "--model", WorkflowAssets.Model, "--dataset", Text, "--calibration", Text, "--calibration-unit", "chunks",
            "--subset-sizes", "1", "--types", "Q8_0", "--context-size", "64", "--output", "it", "--threads", "1", "-q"], null,
            label => label.Contains("state.json", StringComparison.Ordinal) || label.StartsWith("mkdir", StringComparison.Ordinal),
            // The state records each output's modification time (to notice files changed by hand): it differs by run.
            new KillPoints.Volatile("it/state.json", state => WriteTicks().Replace(state, "\"WriteTicks\": 0")));
        output.WriteLine($"iterate: {report.Steps} steps, {report.Labels} distinct, {report.Kills} kills");
    }

    private static string WithoutCreated(string manifest) => CreatedField().Replace(manifest, "\"created\": \"…\"");

    [GeneratedRegex("\"[Ww]rite_?[Tt]icks\"\\s*:\\s*\\d+")]
    private static partial Regex WriteTicks();

    [GeneratedRegex("\"[Cc]reated\"\\s*:\\s*\"[^\"]*\"")]
    private static partial Regex CreatedField();
}
