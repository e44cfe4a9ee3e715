using System.Text.Json.Nodes;
using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Tests.Support;
using GgufOptimize.Tuning;

namespace GgufOptimize.Tests.Tuning;

/// <summary>tune.json: what is written reads back; anything --tuning cannot trust is refused naming the file.</summary>
public class TuningFileTests
{
    internal static readonly ModelIdentity Model = new("m.gguf", 1234, new string('a', 64));

    internal static TuneResult Result(string output, ModelIdentity? model = null, int context = 256, TuningSetting? recommended = null)
    {
        var defaults = new TuningSetting(context, context, 1);
        var rec = recommended ?? new TuningSetting(context, 64, 2);
        var check = new TuningComparison(defaults, rec, [new(1200, 1000), new(1210, 1005)], ComparisonVerdict.Better);
        return new TuneResult
        {
            OutputPath = output, Model = model ?? Model, ContextSize = context, EngineOptions = "flash_attn=on",
            Machine = new MachineDescription("cpu", 2, 2, 1 << 30, "os", "x64", "lib", "0.1 0.2 0.3 1/2 3"),
            TextSource = "random tokens (seed 1)", ChunksPerTrial = 4, TokensPerTrial = 4 * context, Rule = new TuningRule(),
            MaxTrials = 60, Trials = 4, WarmUps = 2, Stop = TuningStop.Converged, ThreadsSearched = true,
            Defaults = defaults, Recommended = rec, SpeedupOverDefaults = check.MedianRatio,
            Table = [new(rec, 1205, 2, 1.2), new(defaults, 1002, 2, 1)], Comparisons = [check], Confirmation = check,
            CreatedUtc = new DateTime(2026, 11, 29, 3, 0, 0, DateTimeKind.Utc), Seconds = 1.5,
        };
    }

    [Fact]
    public void What_is_written_reads_back()
    {
        using var dir = new TempDir();
        string path = dir.File("tune.json");
        TuningFile.Write(path, Result(path));
        var stored = TuningFile.Read(path);
        Assert.Equal(Model, stored.Model);
        Assert.Equal(256, stored.ContextSize);
        Assert.Equal(new TuningSetting(256, 64, 2), stored.Recommended);
        Assert.Equal("flash_attn=on", stored.EngineOptions);
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        Assert.Equal(2, json["measured"]!.AsArray().Count);
        Assert.Equal(1000.0, json["confirmation"]!["pairs"]![0]![1]!.GetValue<double>());
        Assert.Equal("cpu", json["machine"]!["cpu"]!.GetValue<string>());
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    public static TheoryData<string, string> Malformed => new()
    {
        { "not json {", "not JSON" },
        { "[1, 2]", "not a JSON object" },
        { """{"kind":"something else","version":1}""", "\"kind\"" },
        { """{"kind":"gguf-optimize tune","version":7}""", "\"version\"" },
        { """{"kind":"gguf-optimize tune","version":1,"contextSize":128}""", "\"model\"" },
        { """{"kind":"gguf-optimize tune","version":1,"model":{"file":"m","bytes":1,"sha256":"xyz"},"contextSize":128,"recommendation":{"batchSize":1,"ubatchSize":1,"threads":1}}""", "SHA-256" },
        { """{"kind":"gguf-optimize tune","version":1,"model":{"file":"m","bytes":1,"sha256":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},"contextSize":128}""", "\"recommendation\"" },
        { """{"kind":"gguf-optimize tune","version":1,"model":{"file":"m","bytes":1,"sha256":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},"contextSize":128,"recommendation":{"batchSize":"64","ubatchSize":32,"threads":1}}""", "\"batchSize\"" },
        { """{"kind":"gguf-optimize tune","version":1,"model":{"file":"m","bytes":1,"sha256":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},"contextSize":128,"recommendation":{"batchSize":64,"ubatchSize":128,"threads":1}}""", "ubatch ≤ batch" },
        { """{"kind":"gguf-optimize tune","version":1,"model":{"file":"m","bytes":1,"sha256":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},"contextSize":128,"recommendation":{"batchSize":64,"ubatchSize":32,"threads":0}}""", "positive" },
        { "", "not JSON" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_malformed_file_is_refused_naming_it(string text, string why)
    {
        using var dir = new TempDir();
        string path = dir.File("tune.json");
        File.WriteAllText(path, text);
        var e = Assert.Throws<GgufOptimizeException>(() => TuningFile.Read(path));
        Assert.Equal(FailureKind.BadInput, e.Kind);
        Assert.Contains($"--tuning '{path}'", e.Message);
        Assert.Contains(why, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_missing_file_is_refused_naming_it()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<GgufOptimizeException>(() => TuningFile.Read(dir.File("none.json")));
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void Another_model_or_context_is_refused()
    {
        using var dir = new TempDir();
        string path = dir.File("tune.json");
        TuningFile.Write(path, Result(path));
        var stored = TuningFile.Read(path);
        TuningFile.Check(stored, Model, 256);
        var other = Assert.Throws<GgufOptimizeException>(() => TuningFile.Check(stored, Model with { FileName = "q.gguf", Sha256 = new string('b', 64) }, 256));
        Assert.Contains("was measured for model 'm.gguf'", other.Message);
        var context = Assert.Throws<GgufOptimizeException>(() => TuningFile.Check(stored, Model, 512));
        Assert.Contains("context size 256, this run uses 512", context.Message);
    }
}
