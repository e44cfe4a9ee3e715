using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using GgufOptimize.Common;

namespace GgufOptimize.Datasets.Output;

/// <summary>
/// The record written beside a dataset: how it was selected, what the sources contained and what had to be skipped,
/// per-language counts of every subset and the SHA-256 of every file. <see cref="Fingerprint"/> identifies the
/// selection apart from its size, which is what <c>--append</c> checks.
/// </summary>
internal sealed class DatasetManifest
{
    public string Tool { get; set; } = "gguf-optimize dataset";
    public int FormatVersion { get; set; } = 1;
    public DateTimeOffset Created { get; set; }
    public string Fingerprint { get; set; } = "";
    public SelectionRecord Selection { get; set; } = new();
    public List<SourceRecord> Sources { get; set; } = [];
    public List<LanguageRecord> Languages { get; set; } = [];
    public List<SubsetRecord> Subsets { get; set; } = [];
    public List<string> Warnings { get; set; } = [];

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static DatasetManifest Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<DatasetManifest>(File.ReadAllText(path), Json)
                   ?? throw GgufOptimizeException.BadInput($"manifest '{path}' is empty");
        }
        catch (JsonException e)
        {
            throw GgufOptimizeException.BadInput($"manifest '{path}' is not a readable dataset manifest: {e.Message}");
        }
    }

    /// <summary>SHA-256 of the selection with its size left out: equal for runs that differ only in how much they take.</summary>
    public static string FingerprintOf(SelectionRecord selection)
    {
        // The tokenizer only changes the selection when sizes are in tokens; otherwise it just adds counts to the manifest.
        var sizeless = selection with { Size = 0, Tokenizer = selection.Unit == "tokens" ? selection.Tokenizer : null };
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(sizeless, Json))));
    }
}

internal sealed record SelectionRecord
{
    public List<string> Sources { get; init; } = [];
    /// <summary>Null when languages were not used (every sample in one group named "*").</summary>
    public List<string>? Languages { get; init; }
    public Dictionary<string, double>? Weights { get; init; }
    /// <summary>"samples" (sizes per language at equal weight) or "tokens" (sizes in total tokens).</summary>
    public string Unit { get; init; } = "samples";
    public long Size { get; init; }
    public long SkipSamples { get; init; }
    public int MinChars { get; init; }
    public int? MaxChars { get; init; }
    public bool Deduplicate { get; init; }
    public bool Shuffle { get; init; }
    public long? Seed { get; init; }
    public string InvalidUtf8 { get; init; } = "replace";
    public int MaxSampleBytes { get; init; }
    public string? Tokenizer { get; init; }
    public string Format { get; init; } = "text";
}

internal sealed class SourceRecord
{
    public string Description { get; set; } = "";
    public long Files { get; set; }
    public long Records { get; set; }
    public long Bytes { get; set; }
    /// <summary>Records of languages not asked for.</summary>
    public long OtherLanguages { get; set; }
    public Dictionary<string, IssueRecord> Issues { get; set; } = [];
    public List<string>? Notes { get; set; }
}

internal sealed class IssueRecord
{
    public long Count { get; set; }
    public List<string> First { get; set; } = [];
}

internal sealed class LanguageRecord
{
    public string Language { get; set; } = "";
    public double Weight { get; set; }
    /// <summary>Samples (or tokens, by the selection's unit) asked for after the skipped ones.</summary>
    public long Requested { get; set; }
    public long Selected { get; set; }
    public long SelectedChars { get; set; }
    public long? SelectedTokens { get; set; }
    public long Skipped { get; set; }
    /// <summary>Samples that passed the length filters and were considered (all of them with --shuffle; up to the quota otherwise).</summary>
    public long Candidates { get; set; }
    public long Duplicates { get; set; }
    public long TooShort { get; set; }
    public long TooLong { get; set; }
    /// <summary>True when the sources had fewer samples (or tokens) than requested: what existed was used.</summary>
    public bool Shortfall { get; set; }
}

internal sealed class SubsetRecord
{
    public long Size { get; set; }
    /// <summary>File name, relative to the manifest's folder.</summary>
    public string File { get; set; } = "";
    public string Sha256 { get; set; } = "";
    public long Bytes { get; set; }
    public long Samples { get; set; }
    public long Chars { get; set; }
    public long? Tokens { get; set; }
    public Dictionary<string, LanguageCount> Languages { get; set; } = [];
}

internal sealed class LanguageCount
{
    public long Samples { get; set; }
    public long Chars { get; set; }
    public long? Tokens { get; set; }
}
