using System.Globalization;
using GgufOptimize.Common;
using YamlDotNet.RepresentationModel;

namespace GgufOptimize.Datasets;

/// <summary>
/// <c>dataset --config FILE</c>: languages, their weights and the sources in a YAML file instead of on the command
/// line (llama-gguf-optimize's --config, whose file lists languages under <c>language:</c>; that key is accepted too).
/// Options given on the command line win over the file.
/// </summary>
/// <example>
/// languages: [en, de, fr]
/// weights: { en: 2 }
/// sources:
///   - jsonl:corpus/mix.jsonl
/// lang_field: lang
/// </example>
internal sealed record DatasetConfig
{
    public IReadOnlyList<string>? Languages { get; init; }
    public IReadOnlyDictionary<string, double>? Weights { get; init; }
    public IReadOnlyList<string> Sources { get; init; } = [];
    public string? TextField { get; init; }
    public string? LanguageField { get; init; }

    private static readonly string[] Keys = ["languages", "language", "weights", "sources", "text_field", "lang_field"];

    public static DatasetConfig Load(string path)
    {
        const string What = "--config";
        var yaml = YamlFile.Load(path, What);
        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlMappingNode root)
            throw GgufOptimizeException.BadInput($"{What} '{path}' must be a YAML mapping with keys {string.Join(", ", Keys)}");
        List<string>? languages = null;
        Dictionary<string, double>? weights = null;
        var sources = new List<string>();
        string? textField = null, langField = null;
        foreach (var (keyNode, value) in root.Children)
        {
            string key = (keyNode as YamlScalarNode)?.Value ?? "";
            switch (key)
            {
                case "languages" or "language":
                    if (languages is not null) throw Bad($"gives both 'languages' and 'language'");
                    languages = Strings(value, key);
                    break;
                case "weights":
                    if (value is not YamlMappingNode map) throw Bad("'weights' must map languages to numbers, e.g. { en: 2, de: 1 }");
                    weights = new Dictionary<string, double>(StringComparer.OrdinalIgnoreCase);
                    foreach (var (lang, w) in map.Children)
                    {
                        string name = (lang as YamlScalarNode)?.Value ?? "";
                        if (w is not YamlScalarNode { Value: { } text } || !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double weight) || !(weight > 0))
                            throw Bad($"weight of '{name}' must be a positive number");
                        weights[name] = weight;
                    }
                    break;
                case "sources":
                    sources.AddRange(Strings(value, key));
                    break;
                case "text_field":
                    textField = Scalar(value, key);
                    break;
                case "lang_field":
                    langField = Scalar(value, key);
                    break;
                default:
                    throw Bad($"has the unknown key '{key}' (known: {string.Join(", ", Keys)})");
            }
        }
        return new DatasetConfig { Languages = languages, Weights = weights, Sources = sources, TextField = textField, LanguageField = langField };

        GgufOptimizeException Bad(string what) => GgufOptimizeException.BadInput($"{What} '{path}' {what}");

        List<string> Strings(YamlNode node, string key)
        {
            var items = node switch
            {
                YamlSequenceNode seq => seq.Children.Select(c => (c as YamlScalarNode)?.Value).ToList(),
                YamlScalarNode { Value: { } one } => one.Split(',', StringSplitOptions.TrimEntries).Select(s => (string?)s).ToList(),
                _ => null,
            };
            if (items is null || items.Count == 0 || items.Any(string.IsNullOrWhiteSpace)) throw Bad($"'{key}' must be a non-empty list of strings");
            return items.Select(s => s!).ToList();
        }

        string Scalar(YamlNode node, string key) =>
            node is YamlScalarNode { Value: { Length: > 0 } v } ? v : throw Bad($"'{key}' must be a string");
    }
}
