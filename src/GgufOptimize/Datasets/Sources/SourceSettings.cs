using GgufOptimize.Datasets.Sources.HuggingFace;

namespace GgufOptimize.Datasets.Sources;

/// <summary>The options shared by every <c>--source</c> of one run (field names, text split, Hugging Face access).</summary>
internal sealed record SourceSettings
{
    /// <summary>JSON field path, CSV column or Parquet column holding the text.</summary>
    public string TextField { get; init; } = "text";
    /// <summary>Where the language is, or null when sources are tagged (<c>kind@lang:</c>) or languages are not used.</summary>
    public string? LanguageField { get; init; }
    public TextSplit Split { get; init; } = TextSplit.Paragraph;
    public HfSettings HuggingFace { get; init; } = new();
}
