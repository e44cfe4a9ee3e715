using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using GgufOptimize.Chunking;
using GgufOptimize.Common;

namespace GgufOptimize.Tuning;

/// <summary>What another command takes from a tune.json: whose model and context it was measured for, and the recommendation.</summary>
internal sealed record StoredTuning(string Path, ModelIdentity Model, int ContextSize, TuningSetting Recommended, string EngineOptions)
{
    /// <summary>Refuses this tuning for a run of <paramref name="modelPath"/> at <paramref name="contextSize"/> unless it was measured for exactly those.</summary>
    public void Check(string modelPath, int contextSize) => TuningFile.Check(this, ModelIdentity.Of(modelPath), contextSize);
}

/// <summary>
/// tune.json: written whole or not at all (<see cref="AtomicFile"/>), read back strictly — every field
/// <c>--tuning</c> relies on must be present and sane, or the file is refused with one line naming it.
/// </summary>
internal static class TuningFile
{
    /// <summary>The value of "kind" that marks the file.</summary>
    public const string Kind = "gguf-optimize tune";
    public const int Version = 1;
    /// <summary>The option that reads a tune.json in logits, kld and imatrix (named in its errors).</summary>
    public const string OptionName = "--tuning";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static void Write(string path, TuneResult result) => AtomicFile.WriteAllText(path, ToJson(result));

    public static string ToJson(TuneResult r) => ToNode(r).ToJsonString(Indented) + "\n";

    public static JsonObject ToNode(TuneResult r) => new()
    {
        ["kind"] = Kind,
        ["version"] = Version,
        ["createdUtc"] = r.CreatedUtc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        ["model"] = new JsonObject { ["file"] = r.Model.FileName, ["bytes"] = r.Model.Size, ["sha256"] = r.Model.Sha256 },
        ["contextSize"] = r.ContextSize,
        ["engineOptions"] = r.EngineOptions,
        ["machine"] = new JsonObject
        {
            ["cpu"] = r.Machine.Cpu, ["physicalCores"] = r.Machine.PhysicalCores, ["logicalProcessors"] = r.Machine.LogicalProcessors,
            ["memoryBytes"] = r.Machine.MemoryBytes, ["os"] = r.Machine.OperatingSystem, ["architecture"] = r.Machine.Architecture,
            ["nativeLibrary"] = r.Machine.NativeLibrary, ["loadAverage"] = r.Machine.LoadAverage,
        },
        ["trial"] = new JsonObject { ["text"] = r.TextSource, ["chunks"] = r.ChunksPerTrial, ["tokens"] = r.TokensPerTrial },
        ["rule"] = new JsonObject
        {
            ["repeats"] = r.Rule.Repeats, ["minGain"] = r.Rule.MinGain, ["maxTrials"] = r.MaxTrials, ["description"] = r.Rule.Describe(),
        },
        ["trials"] = r.Trials,
        ["warmUps"] = r.WarmUps,
        ["stop"] = r.Stop.ToString().ToLowerInvariant(),
        ["threadsSearched"] = r.ThreadsSearched,
        ["seconds"] = Math.Round(r.Seconds, 3),
        ["defaults"] = Setting(r.Defaults),
        ["recommendation"] = With(Setting(r.Recommended), o =>
        {
            o["speedupOverDefaults"] = Math.Round(r.SpeedupOverDefaults, 4);
            o["isDefaults"] = r.Recommended == r.Defaults;
        }),
        ["measured"] = new JsonArray([.. r.Table.Select(row => (JsonNode)With(Setting(row.Setting), o =>
        {
            o["tokensPerSecond"] = Math.Round(row.TokensPerSecond, 2);
            o["repeats"] = row.Repeats;
            o["relativeToDefaults"] = row.RelativeToDefaults is { } rel ? Math.Round(rel, 4) : null;
        }))]),
        ["comparisons"] = new JsonArray([.. r.Comparisons.Select(c => (JsonNode)Comparison(c))]),
        ["confirmation"] = r.Confirmation is { } confirmation ? Comparison(confirmation) : null,
    };

    private static JsonObject Setting(TuningSetting s) => new() { ["batchSize"] = s.Batch, ["ubatchSize"] = s.UBatch, ["threads"] = s.Threads };

    private static JsonObject Comparison(TuningComparison c) => new()
    {
        ["incumbent"] = c.Incumbent.Arguments,
        ["challenger"] = c.Challenger.Arguments,
        ["verdict"] = c.Verdict switch { ComparisonVerdict.Better => "better", ComparisonVerdict.NotBetter => "not better", _ => "out of budget" },
        ["pairs"] = new JsonArray([.. c.Pairs.Select(p => (JsonNode)new JsonArray(Math.Round(p.Challenger, 2), Math.Round(p.Incumbent, 2)))]),
    };

    private static JsonObject With(JsonObject o, Action<JsonObject> add)
    {
        add(o);
        return o;
    }

    /// <summary>Reads the parts of <paramref name="path"/> that <c>--tuning</c> applies; anything missing or out of range is bad input naming the file.</summary>
    public static StoredTuning Read(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw Bad(path, File.Exists(path) || Directory.Exists(path) ? $"it cannot be read ({e.Message})" : "it does not exist");
        }
        JsonNode? root;
        try { root = JsonNode.Parse(text); }
        catch (JsonException e) { throw Bad(path, $"it is not JSON ({e.Message})"); }
        if (root is not JsonObject o) throw Bad(path, "it is not a JSON object");
        if (Str(o, "kind", path) != Kind) throw Bad(path, $"its \"kind\" is not \"{Kind}\"");
        if (Int(o, "version", path) != Version) throw Bad(path, $"its \"version\" is not {Version} (written by another version of gguf-optimize)");
        if (o["model"] is not JsonObject model) throw Bad(path, "it has no \"model\" object");
        var identity = new ModelIdentity(Str(model, "file", path), Long(model, "bytes", path), Str(model, "sha256", path));
        if (identity.Sha256.Length != 64 || !identity.Sha256.All(Uri.IsHexDigit)) throw Bad(path, "its model \"sha256\" is not a SHA-256");
        int context = Int(o, "contextSize", path);
        if (o["recommendation"] is not JsonObject rec) throw Bad(path, "it has no \"recommendation\" object");
        var setting = new TuningSetting(Int(rec, "batchSize", path), Int(rec, "ubatchSize", path), Int(rec, "threads", path));
        if (context <= 0 || setting.Batch <= 0 || setting.UBatch <= 0 || setting.Threads <= 0)
            throw Bad(path, "its context size, batch, ubatch and threads must all be positive");
        if (setting.UBatch > setting.Batch || setting.Batch > context)
            throw Bad(path, $"its recommendation {setting} breaks ubatch ≤ batch ≤ context {context}");
        return new StoredTuning(path, identity, context, setting, o["engineOptions"] is JsonValue v && v.TryGetValue(out string? e2) ? e2 : "");
    }

    /// <summary>
    /// Refuses <paramref name="tuning"/> for a run of another model or context size: its batch sizes were measured
    /// for that model and chunk length only.
    /// </summary>
    public static void Check(StoredTuning tuning, ModelIdentity model, int contextSize)
    {
        if (tuning.Model.Sha256 != model.Sha256)
            throw GgufOptimizeException.BadInput($"{OptionName} '{tuning.Path}' was measured for model '{tuning.Model.FileName}' ({tuning.Model.Sha256[..12]}…), not '{model.FileName}' ({model.Sha256[..12]}…); run gguf-optimize tune on this model");
        if (tuning.ContextSize != contextSize)
            throw GgufOptimizeException.BadInput($"{OptionName} '{tuning.Path}' was measured at context size {tuning.ContextSize}, this run uses {contextSize}; run gguf-optimize tune -c {contextSize} or give -c {tuning.ContextSize}");
    }

    private static GgufOptimizeException Bad(string path, string why) =>
        GgufOptimizeException.BadInput($"{OptionName} '{path}' is not a usable tune.json: {why}; write one with gguf-optimize tune");

    private static string Str(JsonObject o, string name, string path) =>
        o[name] is JsonValue v && v.TryGetValue(out string? s) && s.Length > 0 ? s : throw Bad(path, $"\"{name}\" is missing or not a string");

    private static long Long(JsonObject o, string name, string path) =>
        o[name] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out long n) ? n : throw Bad(path, $"\"{name}\" is missing or not a whole number");

    private static int Int(JsonObject o, string name, string path)
    {
        long n = Long(o, name, path);
        return n is >= int.MinValue and <= int.MaxValue ? (int)n : throw Bad(path, $"\"{name}\" is out of range");
    }
}
