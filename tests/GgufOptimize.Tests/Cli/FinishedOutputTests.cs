using System.Security.Cryptography;
using System.Text.Json;
using GgufOptimize.Tests.Support;
using GgufOptimize.Tests.Workflow;

namespace GgufOptimize.Tests.Cli;

/// <summary>
/// Nothing finished is replaced silently: a narrower rerun over a finished comparison is refused (exit 2, file
/// untouched) unless --overwrite; a wider range extends it. Bare --json prints JSON on stdout in the short commands.
/// </summary>
[Collection("engine-workflow")]
public class FinishedOutputTests
{
    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    private static JsonElement Json(CliProcess.Result r)
    {
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement.Clone();
    }

    [Slow]
    [Fact]
    public void A_finished_comparison_is_only_narrowed_with_overwrite_and_a_wider_range_extends_it()
    {
        using var dir = new TempDir();
        string baseline = dir.File("base.h5"), cmp = dir.File("cmp.h5");
        var logits = Json(CliProcess.Run("logits", "-m", WorkflowAssets.Model, "-d", WorkflowAssets.Evaluation, "-o", baseline, "-c", "128", "-t", "1", "-q", "--json"));
        int total = logits.GetProperty("TotalChunks").GetInt32();
        Assert.True(total > 6);

        // A narrower logits rerun over the finished baseline leaves it as it is.
        string baselineHash = Hash(baseline);
        var narrowLogits = CliProcess.Run("logits", "-m", WorkflowAssets.Model, "-d", WorkflowAssets.Evaluation, "-o", baseline, "-c", "128", "-t", "1", "-q", "--to-chunk", "2");
        Assert.True(narrowLogits.ExitCode == 0, narrowLogits.Stderr);
        Assert.Equal(baselineHash, Hash(baseline));

        string[] Kld(params string[] extra) => ["kld", "--baseline-logits", baseline, "--target-model", WorkflowAssets.Model, "-o", cmp, "-t", "1", "-q", .. extra];
        var full = Json(CliProcess.Run(Kld("--json")));
        Assert.Equal(total, full.GetProperty("chunks").GetArrayLength());
        string finished = Hash(cmp);

        var refused = CliProcess.Run(Kld("--to-chunk", "5"));
        Assert.Equal(2, refused.ExitCode);
        string line = Assert.Single(refused.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("finished comparison", line);
        Assert.Contains("--overwrite", line);
        Assert.Equal(finished, Hash(cmp));

        // The same range again reuses every chunk and rewrites nothing new.
        var same = Json(CliProcess.Run(Kld("--json")));
        Assert.Equal(full.GetProperty("overall").ToString(), same.GetProperty("overall").ToString());

        // --clobber is the old spelling of --overwrite.
        var narrowed = Json(CliProcess.Run(Kld("--to-chunk", "5", "--clobber", "--json")));
        Assert.Equal(5, narrowed.GetProperty("chunks").GetArrayLength());

        var widened = Json(CliProcess.Run(Kld("--json")));
        Assert.Equal(total, widened.GetProperty("chunks").GetArrayLength());
        Assert.Equal(full.GetProperty("overall").ToString(), widened.GetProperty("overall").ToString());

        // The short commands print JSON on stdout with a bare --json too.
        Assert.Equal(JsonValueKind.Object, Json(CliProcess.Run("inspect", "--json", WorkflowAssets.Model)).ValueKind);
        var report = Json(CliProcess.Run("report", cmp, "-o", dir.File("report"), "--json", "-q"));
        Assert.Equal(JsonValueKind.Object, report.ValueKind);
        var imatrix = Json(CliProcess.Run("imatrix", "-m", WorkflowAssets.Model, "-d", WorkflowAssets.Calibration, "-o", dir.File("i.gguf"), "-c", "128", "--chunks", "2", "-t", "1", "-q", "--json"));
        Assert.Equal(2, imatrix.GetProperty("chunksEvaluated").GetInt32());
        Assert.Equal(JsonValueKind.Object, Json(CliProcess.Run("imatrix", "stats", "--json", dir.File("i.gguf"))).ValueKind);
        Assert.Equal(JsonValueKind.Object, Json(CliProcess.Run("dataset", "--source", WorkflowAssets.Calibration, "-n", "5", "-o", dir.File("d.txt"), "-q", "--json")).ValueKind);
        // ... and write it to FILE.json while printing the text.
        var toFile = CliProcess.Run("inspect", WorkflowAssets.Model, "--json", dir.File("inspect.json"));
        Assert.Equal(0, toFile.ExitCode);
        Assert.Contains("architecture", toFile.Stdout);
        JsonDocument.Parse(File.ReadAllText(dir.File("inspect.json"))).Dispose();
    }
}
