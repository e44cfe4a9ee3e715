using System.Globalization;
using GgufOptimize.Common;
using GgufOptimize.Datasets.Sources;
using YamlDotNet.RepresentationModel;

namespace GgufOptimize.Workflow;

/// <summary>
/// plan.yaml: one flat mapping whose keys are the <c>iterate</c> options without the leading dashes and with
/// underscores (<c>--subset-sizes</c> ↔ <c>subset_sizes</c>). A command-line option overrides the same key of the
/// file. Unknown keys are errors that list the valid ones; relative paths in a file are relative to the file.
/// </summary>
internal static class PlanFile
{
    private delegate IterationPlan Setter(IterationPlan plan, PlanValue value);

    /// <summary>One value as written: a scalar, or a list of scalars (a YAML sequence or a comma-separated string).</summary>
    public sealed record PlanValue(string Key, IReadOnlyList<string> Items, bool IsList, string? BaseDirectory)
    {
        public static PlanValue Scalar(string key, string text, string? baseDirectory = null) => new(key, [text], false, baseDirectory);

        public string Text => IsList
            ? throw GgufOptimizeException.BadInput($"plan key '{Key}' takes one value, not a list")
            : Items[0];

        /// <summary>A list written as a sequence, or as one comma-separated scalar (the command-line form).</summary>
        public IReadOnlyList<string> List => IsList
            ? Items
            : Items[0].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
    }

    private static readonly (string Key, Setter Set, string Help, Func<IterationPlan, string?> Show)[] Keys =
    [
        ("model", (p, v) => p with { Model = Path(v) }, "unquantized model (GGUF)", p => p.Model),
        ("dataset", (p, v) => p with { Dataset = Path(v) }, "evaluation text", p => p.Dataset),
        ("baseline_logits", (p, v) => p with { BaselineLogits = Path(v) }, "stored baseline logits to reuse", p => p.BaselineLogits),
        ("calibration", (p, v) => p with { Calibration = Source(v) }, "calibration text file or dataset source", p => p.Calibration),
        ("calibration_unit", (p, v) => p with { CalibrationUnit = Unit(v) }, "samples, tokens or chunks", p => p.CalibrationUnit.ToString().ToLowerInvariant()),
        ("subset_sizes", (p, v) => p with { SubsetSizes = v.List.Select(s => Long(v, s)).ToList() }, "growing calibration sizes", p => Join(p.SubsetSizes)),
        ("calibration_languages", (p, v) => p with { CalibrationLanguages = v.List.ToList() }, "languages to balance", p => p.CalibrationLanguages is null ? null : string.Join(",", p.CalibrationLanguages)),
        ("calibration_text_field", (p, v) => p with { CalibrationTextField = v.Text }, "text field of JSON/CSV records", p => p.CalibrationTextField),
        ("calibration_language_field", (p, v) => p with { CalibrationLanguageField = v.Text }, "language field of records", p => p.CalibrationLanguageField),
        ("calibration_shuffle", (p, v) => p with { CalibrationShuffle = Bool(v) }, "shuffle samples first", p => Lower(p.CalibrationShuffle)),
        ("calibration_seed", (p, v) => p with { CalibrationSeed = Long(v, v.Text) }, "seed of the shuffle", p => Inv(p.CalibrationSeed)),
        ("types", (p, v) => p with { Types = v.List.Select(t => RecipeEntry(v, t)).ToList() }, "quantization types", p => p.Types.Count == 0 ? null : string.Join(",", p.Types)),
        ("context_size", (p, v) => p with { ContextSize = Int(v) }, "tokens per chunk", p => Inv(p.ContextSize)),
        ("eval_chunks", (p, v) => p with { EvalChunks = Int(v) }, "evaluation chunks compared (0 = all)", p => Inv(p.EvalChunks)),
        ("skip_first", (p, v) => p with { SkipFirst = Int(v) }, "positions skipped per chunk", p => Inv(p.SkipFirst)),
        ("min_improvement", (p, v) => p with { MinImprovement = Double(v) }, "relative improvement that keeps the loop going", p => Inv(p.MinImprovement)),
        ("confidence", (p, v) => p with { Confidence = Double(v) }, "confidence of the intervals", p => Inv(p.Confidence)),
        ("resamples", (p, v) => p with { Resamples = Int(v) }, "bootstrap resamples", p => Inv(p.Resamples)),
        ("seed", (p, v) => p with { Seed = ULong(v) }, "bootstrap seed", p => Inv(p.Seed)),
        ("early_stopping", (p, v) => p with { EarlyStopping = Bool(v) }, "early stopping on the first comparison", p => Lower(p.EarlyStopping)),
        ("margin_of_error", (p, v) => p with { MarginOfError = Double(v) }, "early-stopping margin", p => Inv(p.MarginOfError)),
        ("min_chunks", (p, v) => p with { MinChunks = Int(v) }, "chunks before early stopping may stop", p => Inv(p.MinChunks)),
        ("output", (p, v) => p with { Output = Path(v) }, "output folder", p => p.Output),
        ("name", (p, v) => p with { Name = v.Text }, "stem of quantized file names", p => p.Name),
        ("threads", (p, v) => p with { Threads = Int(v) }, "CPU threads", p => Inv(p.Threads)),
        ("hf_model_config", (p, v) => p with { HfConfig = Path(v) }, "the original model's Hugging Face config.json: context and RoPE settings where the GGUF lacks or differs from them", p => p.HfConfig),
        .. Engine.EngineOptionTable.All.Select(o => (o.Key,
            (Setter)((p, v) => p with { Engine = o.Apply(p.Engine, v.IsList ? string.Join(",", v.Items) : v.Text, $"{o.Name} (plan key '{o.Key}')") }),
            o.Description, (Func<IterationPlan, string?>)(p => o.Show(p.Engine)))),
    ];

    private static readonly Dictionary<string, Setter> ByKey = Keys.ToDictionary(k => k.Key, k => k.Set);

    /// <summary>The keys a plan may contain, in documentation order.</summary>
    public static IReadOnlyList<string> ValidKeys { get; } = Keys.Select(k => k.Key).ToArray();

    /// <summary>What a key means, for --help.</summary>
    public static string Describe(string key) => Keys.First(k => k.Key == key).Help;

    /// <summary>The key's value in <paramref name="plan"/> as it would be written (null when unset).</summary>
    public static string? Show(string key, IterationPlan plan) => Keys.First(k => k.Key == key).Show(plan);

    /// <summary>Keys that are true/false: on the command line a bare <c>--early-stopping</c> means true.</summary>
    public static bool IsFlag(string key) => key is "early_stopping" or "calibration_shuffle" || Engine.EngineOptionTable.All.Any(o => o.IsFlag && o.Key == key);

    /// <summary>The command-line option of a key: <c>subset_sizes</c> → <c>--subset-sizes</c>.</summary>
    public static string OptionName(string key) => "--" + key.Replace('_', '-');

    /// <summary>Reads a plan file; every key is checked before anything runs.</summary>
    public static IterationPlan Load(string path, IterationPlan? defaults = null)
    {
        var yaml = YamlFile.Load(path, "plan file");
        var plan = defaults ?? new IterationPlan();
        if (yaml.Documents.Count == 0) return plan;
        if (yaml.Documents[0].RootNode is not YamlMappingNode root)
            throw GgufOptimizeException.BadInput($"plan file '{path}' must be a mapping of keys to values (e.g. 'model: base.gguf')");
        string baseDir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        foreach (var (keyNode, valueNode) in root.Children)
        {
            string key = keyNode is YamlScalarNode { Value: { } k } ? k : keyNode.ToString();
            var value = valueNode switch
            {
                YamlScalarNode s => new PlanValue(key, [s.Value ?? ""], false, baseDir),
                YamlSequenceNode seq => new PlanValue(key, seq.Children.Select(c => c is YamlScalarNode { Value: { } x } ? x
                    : throw GgufOptimizeException.BadInput($"plan file '{path}': '{key}' must be a list of plain values")).ToList(), true, baseDir),
                _ => throw GgufOptimizeException.BadInput($"plan file '{path}': '{key}' must be a value or a list of values"),
            };
            plan = Apply(plan, value, $"plan file '{path}'");
        }
        return plan;
    }

    /// <summary>Sets one key (from a file or a command-line option) on the plan.</summary>
    public static IterationPlan Apply(IterationPlan plan, PlanValue value, string where = "plan")
    {
        if (!ByKey.TryGetValue(value.Key, out var set))
            throw GgufOptimizeException.BadInput($"{where}: unknown key '{value.Key}'; valid keys: {string.Join(", ", ValidKeys)}");
        return set(plan, value);
    }

    private static string Inv(IFormattable value) => value.ToString(null, CultureInfo.InvariantCulture);

    private static string Lower(bool value) => value ? "true" : "false";

    private static string? Join(IReadOnlyList<long> values) => values.Count == 0 ? null : string.Join(",", values.Select(v => Inv(v)));

    private static string Path(PlanValue v)
    {
        string text = v.Text;
        if (text.Length == 0) throw GgufOptimizeException.BadInput($"plan key '{v.Key}' is empty");
        return v.BaseDirectory is null || System.IO.Path.IsPathRooted(text) ? text : System.IO.Path.Combine(v.BaseDirectory, text);
    }

    /// <summary>A <c>recipe:PATH</c> entry of 'types' names a file: resolved like other paths; plain types stay as they are.</summary>
    private static string RecipeEntry(PlanValue v, string item)
    {
        if (v.BaseDirectory is null || !IterationEntry.IsRecipeText(item)) return item;
        string rest = item[IterationEntry.RecipePrefix.Length..].Trim();
        return rest.Length == 0 || System.IO.Path.IsPathRooted(rest) ? item : IterationEntry.RecipePrefix + System.IO.Path.Combine(v.BaseDirectory, rest);
    }

    /// <summary>A dataset source: its location is a path (resolved like other paths) except for remote kinds.</summary>
    private static string Source(PlanValue v)
    {
        var spec = SourceSpec.Parse(v.Text, DatasetSourceKinds.Kinds);
        if (v.BaseDirectory is null || spec.Kind == "hf" || System.IO.Path.IsPathRooted(spec.Location)) return v.Text;
        string location = System.IO.Path.Combine(v.BaseDirectory, spec.Location);
        return v.Text.EndsWith(spec.Location, StringComparison.Ordinal) && v.Text.Length > spec.Location.Length
            ? v.Text[..^spec.Location.Length] + location
            : location;
    }

    private static CalibrationUnit Unit(PlanValue v) => v.Text.Trim().ToLowerInvariant() switch
    {
        "samples" => CalibrationUnit.Samples,
        "tokens" => CalibrationUnit.Tokens,
        "chunks" => CalibrationUnit.Chunks,
        _ => throw GgufOptimizeException.BadInput($"plan key 'calibration_unit' must be samples, tokens or chunks (got '{v.Text}')"),
    };

    private static int Int(PlanValue v) =>
        int.TryParse(v.Text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n
            : throw GgufOptimizeException.BadInput($"plan key '{v.Key}' must be a whole number (got '{v.Text}')");

    private static long Long(PlanValue v, string text) =>
        long.TryParse(text.Trim().Replace("_", ""), NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) ? n
            : throw GgufOptimizeException.BadInput($"plan key '{v.Key}' must hold whole numbers (got '{text}')");

    private static ulong ULong(PlanValue v) =>
        ulong.TryParse(v.Text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong n) ? n
            : throw GgufOptimizeException.BadInput($"plan key '{v.Key}' must be a non-negative whole number (got '{v.Text}')");

    private static double Double(PlanValue v)
    {
        string t = v.Text.Trim();
        bool percent = t.EndsWith('%');
        if (percent) t = t[..^1].Trim();
        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) || !double.IsFinite(d))
            throw GgufOptimizeException.BadInput($"plan key '{v.Key}' must be a number (got '{v.Text}')");
        return percent ? d / 100 : d;
    }

    private static bool Bool(PlanValue v) => v.Text.Trim().ToLowerInvariant() switch
    {
        "true" or "yes" or "on" or "1" => true,
        "false" or "no" or "off" or "0" => false,
        _ => throw GgufOptimizeException.BadInput($"plan key '{v.Key}' must be true or false (got '{v.Text}')"),
    };
}
