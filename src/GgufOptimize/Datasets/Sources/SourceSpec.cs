using System.Text.RegularExpressions;

namespace GgufOptimize.Datasets.Sources;

/// <summary>
/// A parsed <c>--source</c> value: <c>kind[@lang]:location</c>, or a bare path whose kind is guessed from its
/// extension (<c>.jsonl</c>, <c>.json</c>, <c>.csv</c>, <c>.tsv</c>, <c>.parquet</c>; anything else is text).
/// </summary>
internal sealed partial record SourceSpec(string Kind, string? Language, string Location)
{
    public static SourceSpec Parse(string text, IReadOnlyCollection<string> knownKinds)
    {
        var match = Prefix().Match(text);
        if (match.Success && knownKinds.Contains(match.Groups["kind"].Value, StringComparer.OrdinalIgnoreCase))
        {
            string? language = match.Groups["lang"].Success ? match.Groups["lang"].Value : null;
            return new SourceSpec(match.Groups["kind"].Value.ToLowerInvariant(), language, text[match.Length..]);
        }
        return new SourceSpec(GuessKind(text), null, text);
    }

    private static string GuessKind(string location)
    {
        string name = location.TrimEnd('/', '\\');
        foreach (var (extension, kind) in new[] { (".jsonl", "jsonl"), (".ndjson", "jsonl"), (".json", "json"), (".csv", "csv"), (".tsv", "tsv"), (".parquet", "parquet") })
            if (name.EndsWith(extension, StringComparison.OrdinalIgnoreCase)) return kind;
        return "text";
    }

    public override string ToString() => $"{Kind}{(Language is null ? "" : "@" + Language)}:{Location}";

    [GeneratedRegex(@"^(?<kind>[A-Za-z][A-Za-z0-9_-]*)(@(?<lang>[A-Za-z0-9_.-]+))?:")]
    private static partial Regex Prefix();
}
