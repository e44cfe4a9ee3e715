using GgufOptimize.Common;
using GgufOptimize.Datasets.Sources.HuggingFace;

namespace GgufOptimize.Datasets.Sources;

/// <summary>
/// The source kinds <c>--source kind[@lang]:location</c> accepts. Adding a kind is one line here plus its
/// <see cref="IDatasetSource"/> class; <see cref="Register"/> does the same at run time for code that embeds the library.
/// </summary>
internal static class DatasetSourceKinds
{
    private static readonly Dictionary<string, Func<SourceSpec, SourceSettings, IDatasetSource>> Factories = new(StringComparer.OrdinalIgnoreCase)
    {
        ["text"] = (spec, s) => new TextFileSource(spec.Location, s.Split, spec.Language),
        ["jsonl"] = (spec, s) => new JsonLinesSource(spec.Location, JsonFieldPath.Parse(s.TextField), LanguagePath(s), spec.Language),
        ["json"] = (spec, s) => new JsonArraySource(spec.Location, JsonFieldPath.Parse(s.TextField), LanguagePath(s), spec.Language),
        ["csv"] = (spec, s) => new CsvSource(spec.Location, ',', s.TextField, s.LanguageField, spec.Language),
        ["tsv"] = (spec, s) => new CsvSource(spec.Location, '\t', s.TextField, s.LanguageField, spec.Language),
        ["parquet"] = (spec, s) => new ParquetSource(spec.Location, s.TextField, s.LanguageField, spec.Language),
        ["hf"] = (spec, s) => new HfDatasetSource(spec.Location, s.HuggingFace, s.TextField, s.LanguageField, spec.Language),
    };

    public static IReadOnlyCollection<string> Kinds => Factories.Keys;

    public static void Register(string kind, Func<SourceSpec, SourceSettings, IDatasetSource> factory) => Factories[kind] = factory;

    /// <summary>Builds the source for one <c>--source</c> value; unknown kinds and missing files are bad input.</summary>
    public static IDatasetSource Create(string spec, SourceSettings settings)
    {
        var parsed = SourceSpec.Parse(spec, Factories.Keys);
        if (parsed.Location.Length == 0) throw GgufOptimizeException.BadInput($"--source '{spec}' names no location");
        return Factories[parsed.Kind](parsed, settings);
    }

    private static JsonFieldPath? LanguagePath(SourceSettings s) => s.LanguageField is null ? null : JsonFieldPath.Parse(s.LanguageField, "--lang-field");
}
