using System.Text.Json;
using GgufOptimize.Tests.Support;
using static GgufOptimize.Tests.Datasets.DatasetTestHelpers;

namespace GgufOptimize.Tests.Datasets;

/// <summary>The <c>dataset</c> command run as a child process, as a user would.</summary>
public class DatasetCommandTests
{
    [Fact]
    public void Writes_nested_subsets_with_manifest_and_prints_a_summary()
    {
        using var tmp = new TempDir();
        string corpus = WriteCorpus(tmp.File("c.jsonl"), new Dictionary<string, int> { ["en"] = 60, ["es"] = 60, ["ca"] = 60 });
        File.AppendAllText(corpus, "{not json\n");
        var r = CliProcess.Run("dataset", "--source", $"jsonl:{corpus}", "--lang-field", "lang", "--langs", "en,es,ca", "--weights", "en=2",
            "--subsets", "5,20", "--output-dir", tmp.File("calib"), "--shuffle", "--seed", "42");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("subset-20.txt", r.Stdout);
        Assert.Contains("1 record malformed (skipped)", r.Stderr.Replace("\n", " "));
        using var manifest = JsonDocument.Parse(File.ReadAllText(tmp.File("calib/manifest.json")));
        var subsets = manifest.RootElement.GetProperty("subsets");
        Assert.Equal(2, subsets.GetArrayLength());
        Assert.Equal(60, subsets[1].GetProperty("samples").GetInt64()); // 20 x 3 languages, split 2:1:1
        Assert.Equal(30, subsets[1].GetProperty("languages").GetProperty("en").GetProperty("samples").GetInt64());
        Assert.Equal(Sha256(tmp.File("calib/subset-20.txt")), subsets[1].GetProperty("sha256").GetString());
        Assert.Equal(42, manifest.RootElement.GetProperty("selection").GetProperty("seed").GetInt64());

        var again = CliProcess.Run("dataset", "--source", $"jsonl:{corpus}", "--lang-field", "lang", "--langs", "en,es,ca", "--weights", "en=2",
            "--subsets", "5,20,40", "--output-dir", tmp.File("calib"), "--shuffle", "--seed", "42", "--append", "--json");
        Assert.True(again.ExitCode == 0, again.Stderr);
        using var json = JsonDocument.Parse(again.Stdout);
        Assert.Equal(3, json.RootElement.GetProperty("subsets").GetArrayLength());
        Assert.StartsWith(File.ReadAllText(tmp.File("calib/subset-20.txt")), File.ReadAllText(tmp.File("calib/subset-40.txt")));
    }

    [Fact]
    public void Count_only_writes_nothing_and_bad_input_exits_2_with_one_line()
    {
        using var tmp = new TempDir();
        string corpus = WriteCorpus(tmp.File("c.jsonl"), new Dictionary<string, int> { ["en"] = 30, ["es"] = 10 });
        var count = CliProcess.Run("dataset", "-s", corpus, "--lang-field", "lang", "--langs", "en,es", "-n", "20", "--count-only");
        Assert.Equal(0, count.ExitCode);
        Assert.Matches(@"en\s+30\s", count.Stdout);
        Assert.Contains("NOT available", count.Stdout);
        Assert.Single(Directory.GetFiles(tmp.Path));

        var untagged = CliProcess.Run("dataset", "-s", corpus, "--langs", "en", "-o", tmp.File("o.txt"));
        Assert.Equal(2, untagged.ExitCode);
        Assert.Single(untagged.Stderr.Trim().Split('\n'));
        Assert.Contains("has no language", untagged.Stderr);

        var weights = CliProcess.Run("dataset", "-s", corpus, "--lang-field", "lang", "--langs", "en", "--weights", "en:2", "-o", tmp.File("o.txt"));
        Assert.Equal(2, weights.ExitCode);
        Assert.Contains("not LANG=NUMBER", weights.Stderr);

        var noOutput = CliProcess.Run("dataset", "-s", corpus);
        Assert.Equal(2, noOutput.ExitCode);
        Assert.Contains("--output", noOutput.Stderr);
        Assert.Single(Directory.GetFiles(tmp.Path));
    }

    [Fact]
    public void Unreachable_hugging_face_endpoint_exits_1_and_writes_nothing()
    {
        using var tmp = new TempDir();
        var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        int port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var r = CliProcess.Run("dataset", "-s", "hf:acme/corpus", "--hf-endpoint", $"http://127.0.0.1:{port}", "--hf-retries", "1",
            "--cache-dir", tmp.File("cache"), "-o", tmp.File("d.txt"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("cannot reach", r.Stderr);
        Assert.Empty(Directory.GetFileSystemEntries(tmp.Path));
    }

    [Slow]
    [SkippableFact]
    public void Kill_9_leaves_no_output_or_scratch_and_the_rerun_gives_the_full_result()
    {
        using var tmp = new TempDir();
        string corpus = tmp.File("big.jsonl");
        var random = new Random(3);
        using (var w = new StreamWriter(corpus))
            for (int i = 0; i < 300_000; i++)
                w.WriteLine(JsonSerializer.Serialize(new { text = $"sample {i} " + new string((char)('a' + random.Next(26)), 200 + random.Next(300)), lang = i % 3 == 0 ? "en" : "es" }));
        string[] args = ["dataset", "-s", corpus, "--lang-field", "lang", "--langs", "en,es", "--subsets", "100,400", "--shuffle", "--seed", "1"];

        bool killed = CliProcess.RunAndKill(TimeSpan.FromMilliseconds(900), [.. args, "--output-dir", tmp.File("calib")]);
        Skip.IfNot(killed, "the run finished before it could be killed");
        if (Directory.Exists(tmp.File("calib")))
        {
            Assert.DoesNotContain(Directory.GetFiles(tmp.File("calib")), f => f.Contains("spill"));
            Assert.False(File.Exists(tmp.File("calib/manifest.json")));
        }
        var rerun = CliProcess.Run([.. args, "--output-dir", tmp.File("calib")]);
        Assert.True(rerun.ExitCode == 0, rerun.Stderr);
        var reference = CliProcess.Run([.. args, "--output-dir", tmp.File("reference")]);
        Assert.Equal(0, reference.ExitCode);
        foreach (var name in new[] { "subset-100.txt", "subset-400.txt" })
            Assert.Equal(File.ReadAllBytes(tmp.File("reference/" + name)), File.ReadAllBytes(tmp.File("calib/" + name)));
    }
}
