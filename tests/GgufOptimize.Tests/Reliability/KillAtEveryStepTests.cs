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
        var run = CliProcess.Run("logits", "-m", WorkflowAssets.Model, "-d", text, "-o", baseline, "-c", "64", "-t", "1", "-q");
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

    [Slow, Fact] public void Logits_float32() => Check(Logits());

    [Slow, Fact] public void Logits_float16() => Check(Logits("--precision", "16"));

    [Slow, Fact] public void Logits_compact() => Check(Logits("--format", "compact"));

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

    private static string WithoutCreated(string manifest) => CreatedField().Replace(manifest, "\"created\": \"…\"");

    [GeneratedRegex("\"[Cc]reated\"\\s*:\\s*\"[^\"]*\"")]
    private static partial Regex CreatedField();
}
