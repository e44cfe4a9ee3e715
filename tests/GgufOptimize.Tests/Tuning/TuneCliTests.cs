using System.Text.Json.Nodes;
using GgufOptimize.Chunking;
using GgufOptimize.Storage;
using GgufOptimize.Tests.Support;
using GgufOptimize.Tests.Workflow;
using GgufOptimize.Tuning;

namespace GgufOptimize.Tests.Tuning;

/// <summary><c>tune</c> and <c>--tuning</c> through the real CLI and the bundled llama.cpp.</summary>
[Collection("engine-workflow")]
public class TuneCliTests
{
    /// <summary>The property the command promises, read from its own tune.json: the recommendation is the defaults, or beat them in every pair of the final check.</summary>
    private static void AssertNeverSlowerThanDefaults(JsonNode json, int maxTrials)
    {
        Assert.InRange(json["trials"]!.GetValue<int>(), 1, maxTrials);
        var rec = json["recommendation"]!;
        var defaults = json["defaults"]!;
        string Args(JsonNode s) => $"-b {s["batchSize"]} -ub {s["ubatchSize"]} -t {s["threads"]}";
        if (rec["isDefaults"]!.GetValue<bool>())
        {
            Assert.Equal(Args(defaults), Args(rec));
            Assert.Equal(1.0, rec["speedupOverDefaults"]!.GetValue<double>());
            return;
        }
        var check = json["confirmation"]!;
        Assert.Equal(Args(defaults), check["incumbent"]!.GetValue<string>());
        Assert.Equal(Args(rec), check["challenger"]!.GetValue<string>());
        Assert.Equal("better", check["verdict"]!.GetValue<string>());
        var pairs = check["pairs"]!.AsArray();
        Assert.Equal(json["rule"]!["repeats"]!.GetValue<int>(), pairs.Count);
        Assert.All(pairs, p => Assert.True(p![0]!.GetValue<double>() > p[1]!.GetValue<double>(), $"a pair of the final check was not faster: {p.ToJsonString()}"));
        Assert.True(rec["speedupOverDefaults"]!.GetValue<double>() > 1);
    }

    [Slow]
    [SkippableFact]
    public void Tune_on_the_shared_model_stays_within_its_cap_prints_a_table_and_recommends_nothing_slower_than_the_defaults()
    {
        string model = SharedAssets.AidreamsModel;
        using var dir = new TempDir();
        string output = dir.File("tune.json");
        var r = CliProcess.Run("tune", "-m", model, "-o", output, "--max-trials", "30", "--repeats", "3");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("tok/s", r.Stdout);
        Assert.Contains("vs defaults", r.Stdout);
        Assert.Contains("recommended:", r.Stdout);
        Assert.Contains("defaults", r.Stdout);
        var json = JsonNode.Parse(File.ReadAllText(output))!;
        AssertNeverSlowerThanDefaults(json, 30);
        Assert.Equal(128, json["contextSize"]!.GetValue<int>());
        // A default trial is at least 1,024 tokens of whole chunks, at most 256 chunks.
        int chunks = json["trial"]!["chunks"]!.GetValue<int>();
        Assert.InRange(chunks, TuneJob.MinTokensPerTrial / 128, TuneJob.MaxChunksPerTrial);
        Assert.Equal(chunks * 128L, json["trial"]!["tokens"]!.GetValue<long>());
        Assert.Equal(ModelIdentity.Of(model).Sha256, json["model"]!["sha256"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(json["machine"]!["cpu"]!.GetValue<string>()));
        // Every measured setting is in the table, each with its repeats.
        Assert.All(json["measured"]!.AsArray(), row => Assert.Contains($"-b {row!["batchSize"]} -ub {row["ubatchSize"]} -t {row["threads"]}", r.Stdout));
        // What another command reads back is what was recommended.
        var stored = TuningFile.Read(output);
        Assert.Equal(json["recommendation"]!["ubatchSize"]!.GetValue<int>(), stored.Recommended.UBatch);
        // A finished tune.json is not replaced without --overwrite.
        var again = CliProcess.Run("tune", "-m", model, "-o", output, "-q");
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("--overwrite", again.Stderr);
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Slow]
    [Fact]
    public void Tune_on_a_synthetic_model_with_a_text_prints_json_for_machines()
    {
        using var dir = new TempDir();
        string output = dir.File("tune.json");
        var r = CliProcess.Run("tune", "-m", WorkflowAssets.Model, "-d", WorkflowAssets.Evaluation, "-o", output, "--max-trials", "24", "--repeats", "3", "-t", "1", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var printed = JsonNode.Parse(r.Stdout)!;
        var written = JsonNode.Parse(File.ReadAllText(output))!;
        Assert.Equal(written.ToJsonString(), printed.ToJsonString());
        AssertNeverSlowerThanDefaults(written, 24);
        Assert.Equal("evaluation.txt", written["trial"]!["text"]!.GetValue<string>());
        // -t fixes the threads: none other was tried.
        Assert.All(written["measured"]!.AsArray(), row => Assert.Equal(1, row!["threads"]!.GetValue<int>()));
        Assert.False(written["threadsSearched"]!.GetValue<bool>());
    }

    [Slow]
    [SkippableFact]
    public void Tuning_applies_its_values_unless_given_and_refuses_another_model_a_context_or_a_bad_file()
    {
        string model = SharedAssets.AidreamsModel, text = SharedAssets.AidreamsText;
        using var dir = new TempDir();
        string tuning = dir.File("tune.json");
        TuningFile.Write(tuning, TuningFileTests.Result(tuning, ModelIdentity.Of(model), 128, new TuningSetting(64, 32, 1)) with { EngineOptions = "" });

        string[] Logits(string output, params string[] extra) => ["logits", "-m", model, "-d", text, "-o", output, "--to-chunk", "1", "--tuning", tuning, "--format", "full", .. extra];
        var applied = CliProcess.Run(Logits(dir.File("a.h5")));
        Assert.True(applied.ExitCode == 0, applied.Stderr);
        string engine = BaselineLogitsReader.ReadHeader(dir.File("a.h5")).Engine!;
        Assert.Contains("n_batch 64,", engine);
        Assert.Contains("n_ubatch 32,", engine);
        Assert.Contains("--tuning", applied.Stderr);

        var explicitBatch = CliProcess.Run(Logits(dir.File("b.h5"), "-b", "128", "-t", "2"));
        Assert.True(explicitBatch.ExitCode == 0, explicitBatch.Stderr);
        string engineB = BaselineLogitsReader.ReadHeader(dir.File("b.h5")).Engine!;
        Assert.Contains("n_batch 128,", engineB);
        Assert.Contains("n_ubatch 32,", engineB);
        Assert.Contains("-b 128 -ub 32 -t 2 (-b, -t as given", explicitBatch.Stderr);

        var imatrix = CliProcess.Run("imatrix", "-m", model, "-d", text, "-o", dir.File("i.gguf"), "--chunks", "1", "--tuning", tuning);
        Assert.True(imatrix.ExitCode == 0, imatrix.Stderr);
        Assert.Contains("--tuning " + tuning + ": -b 64 -ub 32 -t 1", imatrix.Stderr);
        var kld = CliProcess.Run("kld", "--baseline-logits", dir.File("a.h5"), "--target-model", model, "-o", dir.File("k.h5"), "--tuning", tuning, "-q");
        Assert.True(kld.ExitCode == 0, kld.Stderr);

        void Refused(string[] args, string expected)
        {
            var r = CliProcess.Run([.. args, "-q"]);
            Assert.Equal(2, r.ExitCode);
            // kld warns about the partial baseline first; the refusal is the one error line.
            string line = Assert.Single(r.Stderr.Trim().Split('\n'), l => l.Contains("error", StringComparison.Ordinal));
            Assert.Contains("--tuning", line);
            Assert.Contains(expected, line);
        }
        string other = SharedAssets.TinyRandomLlama2;
        Refused(["logits", "-m", other, "-d", text, "-o", dir.File("c.h5"), "--tuning", tuning], "was measured for model 'aidreams260K-f32.gguf'");
        Refused(["imatrix", "-m", other, "-d", text, "-o", dir.File("j.gguf"), "--tuning", tuning], "was measured for model");
        Refused(["kld", "--baseline-model", other, "-d", text, "--target-model", other, "-o", dir.File("l.h5"), "--to-chunk", "1", "--tuning", tuning], "was measured for model");
        string tuning64 = dir.File("tune64.json");
        TuningFile.Write(tuning64, TuningFileTests.Result(tuning64, ModelIdentity.Of(model), 64, new TuningSetting(64, 32, 1)));
        Refused(["kld", "--baseline-logits", dir.File("a.h5"), "--target-model", model, "-o", dir.File("l.h5"), "--tuning", tuning64], "context size 64, this run uses 128");
        Refused(Logits(dir.File("d.h5"), "-c", "64"), "context size 128, this run uses 64");
        File.WriteAllText(dir.File("bad.json"), "{\"kind\": \"gguf-optimize tune\", \"version\": 1}");
        Refused(["logits", "-m", model, "-d", text, "-o", dir.File("e.h5"), "--tuning", dir.File("bad.json")], "not a usable tune.json");
        Assert.False(File.Exists(dir.File("c.h5")) || File.Exists(dir.File("d.h5")) || File.Exists(dir.File("e.h5")) || File.Exists(dir.File("j.gguf")) || File.Exists(dir.File("l.h5")));
    }

    [Fact]
    public void Help_shows_the_search_settings_with_their_defaults_and_every_command_offers_tuning()
    {
        string help = CliProcess.Run("tune", "--help").Stdout;
        foreach (var expected in new[] { "--max-trials", "[default: 60]", "--repeats", "[default: 5]", "--min-gain", "[default: 0.02]", "[default: tune.json]", "--chunks", "-c, --context-size", "-t, --threads", "-fa, --flash-attn", "--overwrite", "--json" })
            Assert.True(help.Contains(expected, StringComparison.Ordinal), $"tune --help lacks {expected}:\n{help}");
        foreach (var command in new[] { "logits", "kld", "imatrix" })
            Assert.Contains("--tuning <FILE>", CliProcess.Run(command, "--help").Stdout);
    }

    [Slow]
    [Fact]
    public void An_interrupted_tune_leaves_no_tune_json()
    {
        using var dir = new TempDir();
        string output = dir.File("tune.json");
        using (var process = CliProcess.Start("tune", "-m", WorkflowAssets.Model, "-o", output, "--max-trials", "400", "--chunks", "40"))
        {
            _ = process.StandardOutput.ReadToEndAsync();
            // Wait until the search runs (its first line), then kill it mid-way.
            var started = DateTime.UtcNow;
            string line;
            while ((line = process.StandardError.ReadLine() ?? "") is not null && !line.Contains("per trial", StringComparison.Ordinal) && !process.HasExited)
                Assert.True(DateTime.UtcNow - started < TimeSpan.FromMinutes(2), "tune never started its search");
            Thread.Sleep(1500);
            Assert.False(process.HasExited, "tune finished before it could be interrupted");
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        Assert.False(File.Exists(output));
        Assert.DoesNotContain(Directory.GetFiles(dir.Path), f => f.EndsWith(".tmp", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal));
    }
}
