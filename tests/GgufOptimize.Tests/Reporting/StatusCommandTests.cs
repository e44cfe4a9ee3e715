using System.Text.Json;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Reporting;

/// <summary><c>status</c>: what a baseline, a comparison and a folder of them hold and lack, through the CLI.</summary>
public class StatusCommandTests
{
    private static JsonElement Status(string path)
    {
        var r = CliProcess.Run("status", path, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        return JsonDocument.Parse(r.Stdout).RootElement.GetProperty("files")[0];
    }

    [Slow]
    [SkippableFact]
    public void Status_names_present_and_missing_chunk_ranges_and_the_inputs()
    {
        using var tmp = new TempDir();
        string data = tmp.File("data.txt");
        File.WriteAllText(data, File.ReadAllText(SharedAssets.AidreamsText)[..12000]);
        Assert.Equal(0, CliProcess.Run("logits", "-m", SharedAssets.AidreamsModel, "-d", data, "-o", tmp.File("base.h5"), "-c", "64", "--to-chunk", "2", "--format", "full", "-q").ExitCode);

        var baseline = Status(tmp.File("base.h5"));
        Assert.Equal("baseline (full)", baseline.GetProperty("kind").GetString());
        int total = baseline.GetProperty("total_chunks").GetInt32();
        Assert.True(total > 4, $"{total} chunks");
        Assert.Equal("0-1", baseline.GetProperty("present").GetString());
        Assert.Equal($"2-{total - 1}", baseline.GetProperty("missing").GetString());
        Assert.False(baseline.GetProperty("complete").GetBoolean());
        Assert.Equal("aidreams260K-f32.gguf", baseline.GetProperty("made_from").GetProperty("model").GetString());
        Assert.Equal("data.txt", baseline.GetProperty("made_from").GetProperty("dataset").GetString());
        Assert.Contains("n_ubatch", baseline.GetProperty("made_from").GetProperty("engine").GetString());

        Assert.Equal(0, CliProcess.Run("kld", "--baseline-logits", tmp.File("base.h5"), "--target-model", SharedAssets.AidreamsModel, "-o", tmp.File("cmp.h5"), "-q").ExitCode);
        var comparison = Status(tmp.File("cmp.h5"));
        Assert.Equal("comparison", comparison.GetProperty("kind").GetString());
        Assert.Equal("0-1", comparison.GetProperty("present").GetString());
        Assert.Equal("base.h5", comparison.GetProperty("made_from").GetProperty("baseline_file").GetString());

        var text = CliProcess.Run("status", tmp.Path);
        Assert.Equal(0, text.ExitCode);
        Assert.Contains("base.h5: baseline (full), finished, with gaps", text.Stdout);
        Assert.Contains($"missing: 2-{total - 1}", text.Stdout);
        Assert.Contains("cmp.h5: comparison", text.Stdout);

        var missing = CliProcess.Run("status", tmp.File("nothing.h5"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("nothing.h5", missing.Stderr);
    }

    /// <summary>A compact baseline and a llama.cpp .kld: their inputs once each (n_ctx from the header, or the .kld's own).</summary>
    [Slow]
    [SkippableTheory]
    [InlineData("compact", "base.h5")]
    [InlineData("llamacpp", "base.kld")]
    public void Status_describes_compact_and_kld_baselines(string format, string name)
    {
        using var tmp = new TempDir();
        string data = tmp.File("data.txt");
        File.WriteAllText(data, File.ReadAllText(SharedAssets.AidreamsText)[..12000]);
        Assert.Equal(0, CliProcess.Run("logits", "-m", SharedAssets.AidreamsModel, "-d", data, "-o", tmp.File(name), "-c", "64", "--format", format, "-q").ExitCode);
        var baseline = Status(tmp.File(name));
        Assert.Equal("64", baseline.GetProperty("made_from").GetProperty("n_ctx").GetString());
        Assert.True(baseline.GetProperty("complete").GetBoolean());
    }
}
