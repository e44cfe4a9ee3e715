using GgufOptimize.Common;
using GgufOptimize.Gguf;
using YamlDotNet.RepresentationModel;

namespace GgufOptimize.Quantization;

/// <summary>The quantization names llama-quantize accepts, and where a run's list of them comes from.</summary>
internal static class QuantizationTypes
{
    // Bulk tensor types are llama_ftype_get_default_type in src/llama-quant.cpp (c0c7e147); COPY keeps every tensor.
    private static readonly QuantizationType[] Table =
    [
        new("Q4_0", 2, GgmlType.Q4_0), new("Q4_1", 3, GgmlType.Q4_1), new("Q5_0", 8, GgmlType.Q5_0), new("Q5_1", 9, GgmlType.Q5_1),
        new("Q8_0", 7, GgmlType.Q8_0),
        new("Q2_K", 10, GgmlType.Q2_K), new("Q2_K_S", 21, GgmlType.Q2_K),
        new("Q3_K_S", 11, GgmlType.Q3_K), new("Q3_K_M", 12, GgmlType.Q3_K), new("Q3_K_L", 13, GgmlType.Q3_K),
        new("Q4_K_S", 14, GgmlType.Q4_K), new("Q4_K_M", 15, GgmlType.Q4_K), new("Q5_K_S", 16, GgmlType.Q5_K), new("Q5_K_M", 17, GgmlType.Q5_K),
        new("Q6_K", 18, GgmlType.Q6_K),
        new("IQ1_S", 24, GgmlType.IQ1_S), new("IQ1_M", 31, GgmlType.IQ1_M),
        new("IQ2_XXS", 19, GgmlType.IQ2_XXS), new("IQ2_XS", 20, GgmlType.IQ2_XS),
        new("IQ2_S", 28, GgmlType.IQ2_XS), new("IQ2_M", 29, GgmlType.IQ2_S),
        new("IQ3_XXS", 23, GgmlType.IQ3_XXS), new("IQ3_XS", 22, GgmlType.IQ3_S), new("IQ3_S", 26, GgmlType.IQ3_S), new("IQ3_M", 27, GgmlType.IQ3_S),
        new("IQ4_NL", 25, GgmlType.IQ4_NL), new("IQ4_XS", 30, GgmlType.IQ4_XS),
        new("TQ1_0", 36, GgmlType.TQ1_0), new("TQ2_0", 37, GgmlType.TQ2_0), new("MXFP4_MOE", 38, GgmlType.MXFP4),
        new("F16", 1, GgmlType.F16), new("BF16", 32, GgmlType.BF16), new("F32", 0, GgmlType.F32), new("COPY", 0, null, OnlyCopy: true),
    ];

    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Q3_K"] = "Q3_K_M",
        ["Q4_K"] = "Q4_K_M",
        ["Q5_K"] = "Q5_K_M",
    };

    private static readonly Dictionary<string, QuantizationType> ByName = Table.ToDictionary(t => t.Name, StringComparer.OrdinalIgnoreCase);

    public static IReadOnlyList<QuantizationType> All => Table;

    /// <summary>Looks a name up case-insensitively (aliases Q3_K, Q4_K, Q5_K included); unknown names are bad input.</summary>
    public static QuantizationType Parse(string name)
    {
        string key = name.Trim();
        if (Aliases.TryGetValue(key, out var canonical)) key = canonical;
        if (ByName.TryGetValue(key, out var type)) return type;
        throw GgufOptimizeException.BadInput($"unknown quantization type '{name}'; known: {string.Join(", ", Table.Select(t => t.Name))}");
    }

    /// <summary>A comma-separated list ("Q4_K_M,Q6_K,q8_0"), in order, without duplicates.</summary>
    public static IReadOnlyList<QuantizationType> ParseList(string list)
    {
        var types = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(Parse).Distinct().ToList();
        if (types.Count == 0) throw GgufOptimizeException.BadInput("--types names no quantization type");
        return types;
    }

    /// <summary>The list under <c>quantizations:</c> in a YAML file such as llama-gguf-optimize's quantizations.yaml.</summary>
    public static IReadOnlyList<QuantizationType> LoadConfig(string path)
    {
        var yaml = YamlFile.Load(path, "config file");
        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlMappingNode root
            || !root.Children.TryGetValue(new YamlScalarNode("quantizations"), out var node))
            throw GgufOptimizeException.BadInput($"config file '{path}' has no 'quantizations:' list");
        if (node is not YamlSequenceNode list)
            throw GgufOptimizeException.BadInput($"'quantizations' in '{path}' must be a list of type names");
        var types = new List<QuantizationType>();
        foreach (var item in list)
        {
            if (item is not YamlScalarNode { Value: { } value })
                throw GgufOptimizeException.BadInput($"'quantizations' in '{path}' must be a list of type names (found {item.NodeType})");
            types.Add(Parse(value));
        }
        if (types.Count == 0) throw GgufOptimizeException.BadInput($"'quantizations' in '{path}' is empty");
        return types.Distinct().ToList();
    }

    /// <summary>
    /// The optional <c>tensor_types:</c> list of the same file ("PATTERN=TYPE" strings, first match wins), which
    /// <c>recipe</c> writes; an absent list means no rules.
    /// </summary>
    public static IReadOnlyList<TensorTypeRule> LoadConfigTensorTypes(string path)
    {
        var yaml = YamlFile.Load(path, "config file");
        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlMappingNode root
            || !root.Children.TryGetValue(new YamlScalarNode("tensor_types"), out var node))
            return [];
        if (node is not YamlSequenceNode list)
            throw GgufOptimizeException.BadInput($"'tensor_types' in '{path}' must be a list of PATTERN=TYPE strings");
        var rules = new List<TensorTypeRule>();
        foreach (var item in list)
        {
            if (item is not YamlScalarNode { Value: { } value })
                throw GgufOptimizeException.BadInput($"'tensor_types' in '{path}' must be a list of PATTERN=TYPE strings (found {item.NodeType})");
            rules.Add(TensorTypeRule.Parse(value));
        }
        return rules;
    }
}
