using System.Text.Json;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Kld;

public class KldCliTests
{
    [Slow]
    [SkippableFact]
    public void Killed_comparisons_resume_to_the_same_numbers()
    {
        using var tmp = new TempDir();
        string data = tmp.File("data.txt");
        File.WriteAllText(data, File.ReadAllText(SharedAssets.AidreamsText)[..40000]);
        Assert.Equal(0, CliProcess.Run("logits", "-m", SharedAssets.AidreamsModel, "-d", data, "-o", tmp.File("half.h5"), "--precision", "16", "-q").ExitCode);
        string[] Args(string output, string json) => ["kld", "--baseline-model", SharedAssets.AidreamsModel, "--target-logits", tmp.File("half.h5"),
            "--dataset", data, "-o", output, "--json", json, "-t", "1", "-b", "8", "-q"];
        // generate-both mode with a stored target is refused; use the stored target against a computed baseline instead.
        var refused = CliProcess.Run(Args(tmp.File("x.h5"), tmp.File("x.json")));
        Assert.Equal(2, refused.ExitCode);

        Assert.Equal(0, CliProcess.Run("logits", "-m", SharedAssets.AidreamsModel, "-d", data, "-o", tmp.File("base.h5"), "-q").ExitCode);
        string[] Kld(string output, string json) => ["kld", "--baseline-logits", tmp.File("base.h5"), "--target-model", SharedAssets.AidreamsModel,
            "-o", output, "--json", json, "-t", "1", "-b", "4", "-q"];
        var reference = CliProcess.Run(Kld(tmp.File("ref.h5"), tmp.File("ref.json")));
        Assert.Equal(0, reference.ExitCode);

        // A target that differs from the baseline: the float16 logits, compared the other way round.
        string[] Cmp(string output, string json) => ["kld", "--baseline-logits", tmp.File("base.h5"), "--target-logits", tmp.File("half.h5"),
            "-o", output, "--json", json, "-q"];
        var cmpRef = CliProcess.Run(Cmp(tmp.File("cref.h5"), tmp.File("cref.json")));
        Assert.Equal(0, cmpRef.ExitCode);

        var rng = new Random(3);
        int kills = 0;
        for (int i = 0; i < 10 && kills < 3; i++)
        {
            if (CliProcess.RunAndKill(TimeSpan.FromMilliseconds(300 + rng.Next(900)), Kld(tmp.File("out.h5"), tmp.File("out.json")))) kills++;
            if (File.Exists(tmp.File("out.h5"))) break;
        }
        Assert.True(kills >= 1, "no run was interrupted");
        var resumed = CliProcess.Run(Kld(tmp.File("out.h5"), tmp.File("out.json")));
        Assert.Equal(0, resumed.ExitCode);
        Assert.Equal(reference.Stdout, resumed.Stdout);
        Assert.Equal(File.ReadAllText(tmp.File("ref.json")).Replace("ref.h5", "out.h5"), File.ReadAllText(tmp.File("out.json")));
        Assert.Equal(File.ReadAllBytes(tmp.File("ref.h5")), File.ReadAllBytes(tmp.File("out.h5")));

        var json = JsonDocument.Parse(File.ReadAllText(tmp.File("cref.json"))).RootElement;
        Assert.True(json.GetProperty("overall").GetProperty("Average").GetDouble() > 0);
        Assert.Equal(0, json.GetProperty("chunks")[0].GetProperty("ChunkNumber").GetInt32());
        Assert.True(json.GetProperty("chunks")[0].TryGetProperty("KLD_99", out _));
    }
}
