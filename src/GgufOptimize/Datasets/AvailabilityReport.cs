using GgufOptimize.Datasets.Output;

namespace GgufOptimize.Datasets;

/// <summary>What <c>--count-only</c> found: usable samples per language against what the selection asks for.</summary>
internal sealed class AvailabilityReport
{
    public string Unit { get; set; } = "samples";
    public List<LanguageAvailability> Languages { get; set; } = [];
    public List<SourceRecord> Sources { get; set; } = [];
    public List<string> Warnings { get; set; } = [];

    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(this, DatasetManifest.Json);
}

internal sealed class LanguageAvailability
{
    public string Language { get; set; } = "";
    /// <summary>Samples that pass the length filters (distinct ones when de-duplicating).</summary>
    public long Samples { get; set; }
    public long Duplicates { get; set; }
    public long Chars { get; set; }
    public long? Tokens { get; set; }
    public long TooShort { get; set; }
    public long TooLong { get; set; }
    /// <summary>Samples left out by --skip-samples before the selection starts.</summary>
    public long SkipSamples { get; set; }
    /// <summary>Samples (or tokens) the selection asks for after the skipped ones.</summary>
    public long Requested { get; set; }
    /// <summary>Whether the request can be met in full (for tokens: the tokens of all samples, skipped ones included).</summary>
    public bool Enough { get; set; }
}
