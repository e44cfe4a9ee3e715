using System.Globalization;
using System.Text.Json;
using GgufOptimize.Common;
using GgufOptimize.Gguf;

namespace GgufOptimize.Engine;

/// <summary>
/// The settings a GGUF states that a Hugging Face <c>config.json</c> may correct: its training context, RoPE base
/// frequency and linear RoPE scaling factor (null when the GGUF does not state them).
/// </summary>
internal sealed record GgufModelFacts(long? TrainContext, double? RopeFreqBase, double? LinearRopeFactor)
{
    /// <summary>The facts in <paramref name="file"/>'s metadata (keys prefixed with its architecture).</summary>
    public static GgufModelFacts Of(GgufFile file)
    {
        var m = file.Metadata;
        string? arch = file.Architecture;
        if (arch is null) return new(null, null, null);
        // Newer converters write rope.scaling.type/factor; older ones wrote rope.scale_linear.
        double? linear = m.GetString(arch + ".rope.scaling.type") is { } type
            ? (type == "linear" ? m.GetNumber(arch + ".rope.scaling.factor") : null)
            : m.GetNumber(arch + ".rope.scale_linear");
        return new(m.GetInteger(GgufKeys.ContextLength(arch)), m.GetNumber(GgufKeys.RopeFreqBase(arch)), linear);
    }
}

/// <summary>The engine settings after a <c>config.json</c> was taken into account, and what the user should be told.</summary>
internal sealed record HfConfigResolution(EngineSettings Settings, IReadOnlyList<string> Warnings);

/// <summary>
/// Model settings from the original model's Hugging Face <c>config.json</c> (llama-gguf-optimize's
/// extract_from_config): <c>max_position_embeddings</c>, <c>rope_theta</c> and linear <c>rope_scaling</c> are used
/// where the GGUF lacks them or differs from them, because a converter can drop or misstate them and the logits then
/// come from a model run with other positions than it was trained with. A value given explicitly on the command line
/// always wins. Every change and every ignored value is reported as a warning.
/// </summary>
internal static class HfModelConfig
{
    /// <summary>The option's spelling, named in every message.</summary>
    public const string OptionName = "--hf-model-config";

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>
    /// Reads <paramref name="configPath"/> and the header of <paramref name="modelPath"/> and resolves them with
    /// <see cref="Resolve"/>; a missing or unreadable config file is bad input naming <see cref="OptionName"/>.
    /// </summary>
    public static HfConfigResolution Apply(string configPath, string modelPath, int contextSize, EngineSettings settings) =>
        Resolve(ReadText(configPath), configPath, GgufModelFacts.Of(GgufModelValidation.ReadChecked(modelPath)), contextSize, settings);

    /// <summary>The text of <paramref name="configPath"/>; a missing or unreadable file is bad input naming <see cref="OptionName"/>.</summary>
    public static string ReadText(string configPath)
    {
        try
        {
            return File.ReadAllText(configPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw Bad(configPath, File.Exists(configPath) || Directory.Exists(configPath) ? $"the file cannot be read ({e.Message})" : "the file does not exist");
        }
    }

    /// <summary>
    /// The settings <paramref name="settings"/> become with the config <paramref name="json"/> (named
    /// <paramref name="label"/> in messages) for a model stating <paramref name="gguf"/>. <paramref name="contextSize"/>
    /// is the --context-size given (0 = none): the config's context only replaces the model's training context (what
    /// the default chunk length is taken from) when none is given. A RoPE setting above 0 in <paramref name="settings"/>
    /// was given explicitly and is kept.
    /// </summary>
    public static HfConfigResolution Resolve(string json, string label, GgufModelFacts gguf, int contextSize, EngineSettings settings)
    {
        var config = Parse(json, label);
        var warnings = new List<string>();
        string from = $"{OptionName} {label}";

        if (config.MaxPositions is { } positions && gguf.TrainContext != positions)
        {
            string ggufSays = gguf.TrainContext is { } t ? $"the GGUF's context_length {t}" : "the GGUF, which states no context_length";
            if (contextSize > 0)
                warnings.Add($"{from}: max_position_embeddings {positions} differs from {ggufSays}; --context-size {contextSize} was given, so the config's value is not used");
            else
            {
                warnings.Add($"{from}: max_position_embeddings {positions} differs from {ggufSays}; using {positions} as the training context");
                settings = settings with { TrainContext = positions };
            }
        }

        if (config.RopeTheta is { } theta && !Same(gguf.RopeFreqBase, theta))
        {
            string ggufSays = gguf.RopeFreqBase is { } b ? $"the GGUF's rope.freq_base {Show(b)}" : "the GGUF, which states no rope.freq_base";
            if (settings.RopeFreqBase > 0)
            {
                if (!Same(settings.RopeFreqBase, theta))
                    warnings.Add($"{from}: rope_theta {Show(theta)} differs from {ggufSays}; {EngineOptionTable.RopeFreqBase.Name} {Show(settings.RopeFreqBase)} was given, so the config's value is not used");
            }
            else
            {
                warnings.Add($"{from}: rope_theta {Show(theta)} differs from {ggufSays}; using {Show(theta)} ({EngineOptionTable.RopeFreqBase.Name})");
                settings = settings with { RopeFreqBase = (float)theta };
            }
        }

        switch (config.Scaling)
        {
            case null:
                break;
            case ("linear", var factor):
                double ggufFactor = gguf.LinearRopeFactor ?? 1;
                if (Same(ggufFactor, factor!.Value)) break;
                double scale = 1 / factor.Value;
                string ggufSays = gguf.LinearRopeFactor is { } g ? $"the GGUF's linear factor {Show(g)}" : "the GGUF, which states no linear RoPE scaling";
                if (settings.RopeFreqScale > 0)
                {
                    if (!Same(settings.RopeFreqScale, scale))
                        warnings.Add($"{from}: linear rope_scaling factor {Show(factor.Value)} differs from {ggufSays}; {EngineOptionTable.RopeFreqScale.Name} {Show(settings.RopeFreqScale)} was given, so the config's value is not used");
                }
                else
                {
                    warnings.Add($"{from}: linear rope_scaling factor {Show(factor.Value)} differs from {ggufSays}; using {EngineOptionTable.RopeFreqScale.Name} {Show((float)scale)} (1/factor)");
                    settings = settings with { RopeFreqScale = (float)scale };
                }
                break;
            case var (type, _):
                warnings.Add($"{from}: rope_scaling type '{type}' is not applied (only linear scaling is); the GGUF's own RoPE scaling is used");
                break;
        }
        return new HfConfigResolution(settings, warnings);
    }

    private sealed record Parsed(long? MaxPositions, double? RopeTheta, (string Type, double? Factor)? Scaling);

    private static Parsed Parse(string json, string label)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw Bad(label, $"not valid JSON ({e.Message})");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Bad(label, $"the JSON is {Describe(root)}, expected an object like a config.json");
            long? positions = null;
            if (Field(root, "max_position_embeddings") is { } p)
                positions = p.ValueKind == JsonValueKind.Number && p.TryGetInt64(out long n) && n > 0 && n <= int.MaxValue ? n
                    : throw Bad(label, $"max_position_embeddings is {Describe(p)}, expected a positive whole number");
            double? theta = null;
            if (Field(root, "rope_theta") is { } t) theta = Positive(t, "rope_theta", label);
            (string, double?)? scaling = null;
            if (Field(root, "rope_scaling") is { } s)
            {
                if (s.ValueKind != JsonValueKind.Object) throw Bad(label, $"rope_scaling is {Describe(s)}, expected an object or null");
                // transformers spells it rope_type since 4.45 and type before.
                var typeElement = Field(s, "rope_type") ?? Field(s, "type");
                if (typeElement is not { ValueKind: JsonValueKind.String } typeValue)
                    throw Bad(label, typeElement is { } bad ? $"rope_scaling.type is {Describe(bad)}, expected a name such as \"linear\"" : "rope_scaling has no type (or rope_type)");
                string type = typeValue.GetString()!;
                double? factor = null;
                if (type == "linear")
                    factor = Field(s, "factor") is { } f ? Positive(f, "rope_scaling.factor", label) : throw Bad(label, "linear rope_scaling has no factor");
                scaling = (type, factor);
            }
            return new Parsed(positions, theta, scaling);
        }
    }

    /// <summary>The member <paramref name="name"/>, or null when it is absent or JSON null (transformers writes null for "not set").</summary>
    private static JsonElement? Field(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    private static double Positive(JsonElement e, string name, string label) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out double d) && double.IsFinite(d) && d > 0 && d <= float.MaxValue ? d
            : throw Bad(label, $"{name} is {Describe(e)}, expected a positive number");

    private static string Kind(JsonElement e) => e.ValueKind.ToString().ToLowerInvariant();

    private static string Describe(JsonElement e)
    {
        string raw = e.GetRawText();
        return raw.Length <= 40 && !raw.Contains('\n') ? $"{raw} (a {Kind(e)})" : $"a {Kind(e)}";
    }

    /// <summary>Equal within float precision: GGUF stores these as 32-bit floats, config.json as decimal text.</summary>
    private static bool Same(double? a, double b) => a is { } x && Math.Abs(x - b) <= 1e-6 * Math.Max(Math.Abs(x), Math.Abs(b));

    private static string Show(double v) => ((float)v).ToString(Inv);

    private static GgufOptimizeException Bad(string label, string problem) =>
        GgufOptimizeException.BadInput($"{OptionName} '{label}': {problem}");
}
