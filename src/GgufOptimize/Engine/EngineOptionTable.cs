using System.Globalization;
using GgufOptimize.Common;
using GgufOptimize.Gguf;

namespace GgufOptimize.Engine;

/// <summary>
/// One engine option as llama.cpp's tools spell it: <paramref name="Key"/> is the plan-file key (the long name without
/// dashes, with underscores), <paramref name="Name"/> and <paramref name="Aliases"/> the command-line spellings,
/// <paramref name="Default"/> what --help shows, <paramref name="IsFlag"/> a switch without a value.
/// </summary>
internal sealed record EngineOption(string Key, string Name, string[] Aliases, string HelpName, string Description, string Default, bool IsFlag)
{
    internal Func<EngineSettings, string, string, EngineSettings> Parser { get; init; } = (s, _, _) => s;
    internal Func<EngineSettings, string> Shower { get; init; } = _ => "";

    /// <summary>
    /// <paramref name="settings"/> with this option set from <paramref name="text"/> (a flag takes true/false); a bad
    /// value is bad input that names <paramref name="label"/> (the option or plan key as the user wrote it).
    /// </summary>
    public EngineSettings Apply(EngineSettings settings, string text, string? label = null) => Parser(settings, text.Trim(), label ?? Name);

    /// <summary>This option's value in <paramref name="settings"/>, as it would be written.</summary>
    public string Show(EngineSettings settings) => Shower(settings);
}

/// <summary>
/// The engine options every model-running command shares (logits, kld, imatrix, iterate and its plan file, dataset's
/// token counting), with llama.cpp's spellings and defaults (common/arg.cpp at the pinned commit). The CLI builds its
/// options from this table and the plan file its keys, so a spelling, default or check exists once.
/// </summary>
internal static class EngineOptionTable
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>-ngl/--gpu-layers/--n-gpu-layers.</summary>
    public static EngineOption GpuLayers { get; } = new("gpu_layers", "--gpu-layers", ["-ngl", "--n-gpu-layers"], "N|auto|all",
        "Layers stored in VRAM: a number, auto (llama.cpp's choice: as many as fit) or all; needs a GPU build of llama.cpp (--llama-lib)", "auto", false)
    {
        Parser = (s, t, label) => s with
        {
            GpuLayers = t.ToLowerInvariant() switch
            {
                "auto" or "-1" => EngineSettings.AutoGpuLayers,
                "all" => AllGpuLayers,
                _ => NonNegativeInt(t, label, "a number of layers, auto or all"),
            },
        },
        Shower = s => s.GpuLayers switch { EngineSettings.AutoGpuLayers => "auto", AllGpuLayers => "all", var n => n.ToString(Inv) },
    };

    /// <summary>More layers than any model has: llama.cpp's conventional "offload everything".</summary>
    public const int AllGpuLayers = 999;

    /// <summary>-mg/--main-gpu.</summary>
    public static EngineOption MainGpu { get; } = new("main_gpu", "--main-gpu", ["-mg"], "INDEX",
        "The GPU that holds the model with --split-mode none (and intermediate results with row)", "0", false)
    {
        Parser = (s, t, label) => s with { MainGpu = NonNegativeInt(t, label, "a GPU index (0, 1, ...)") },
        Shower = s => s.MainGpu.ToString(Inv),
    };

    /// <summary>-sm/--split-mode.</summary>
    public static EngineOption SplitMode { get; } = new("split_mode", "--split-mode", ["-sm"], "none|layer|row|tensor",
        "How the model is spread over several GPUs: none (main GPU only), layer (whole layers per GPU), row (matrix rows), tensor (tensor parallel)", "layer", false)
    {
        Parser = (s, t, label) => s with
        {
            SplitMode = Enum.TryParse<GpuSplitMode>(t, ignoreCase: true, out var mode) && !char.IsDigit(t.FirstOrDefault()) ? mode
                : throw Bad(label, t, "none, layer, row or tensor"),
        },
        Shower = s => s.SplitMode.ToString().ToLowerInvariant(),
    };

    /// <summary>-ts/--tensor-split.</summary>
    public static EngineOption TensorSplit { get; } = new("tensor_split", "--tensor-split", ["-ts"], "N0,N1,...",
        "Fraction of the model per GPU in device order, e.g. 3,1 (comma- or slash-separated)", "by free memory", false)
    {
        Parser = (s, t, label) => s with { TensorSplit = ParseSplit(t, label) },
        Shower = s => string.Join(",", s.TensorSplit.Select(f => f.ToString(Inv))),
    };

    /// <summary>--no-mmap.</summary>
    public static EngineOption NoMmap { get; } = new("no_mmap", "--no-mmap", [], "",
        "Read the weights into memory instead of memory-mapping them (slower start; for file systems where mmap is slow)", "false", true)
    {
        Parser = (s, t, label) => s with { UseMmap = !Bool(t, label) },
        Shower = s => s.UseMmap ? "false" : "true",
    };

    /// <summary>--mlock.</summary>
    public static EngineOption Mlock { get; } = new("mlock", "--mlock", [], "",
        "Keep the weights locked in RAM so the system never swaps them out (needs a high enough 'ulimit -l')", "false", true)
    {
        Parser = (s, t, label) => s with { UseMlock = Bool(t, label) },
        Shower = s => s.UseMlock ? "true" : "false",
    };

    /// <summary>-fa/--flash-attn.</summary>
    public static EngineOption FlashAttn { get; } = new("flash_attn", "--flash-attn", ["-fa"], "on|off|auto",
        "Flash attention: on, off or auto (llama.cpp decides per model and backend); a bare -fa means on", "auto", false)
    {
        Parser = (s, t, label) => s with
        {
            FlashAttention = t.ToLowerInvariant() switch
            {
                "auto" => FlashAttention.Auto,
                "on" or "enabled" or "true" or "1" or "" => FlashAttention.On,
                "off" or "disabled" or "false" or "0" => FlashAttention.Off,
                _ => throw Bad(label, t, "on, off or auto"),
            },
        },
        Shower = s => s.FlashAttention.ToString().ToLowerInvariant(),
    };

    /// <summary>-ctk/--cache-type-k.</summary>
    public static EngineOption CacheTypeK { get; } = new("cache_type_k", "--cache-type-k", ["-ctk"], CacheTypeNames,
        "Element type of the K cache (a quantized cache changes the logits)", "f16", false)
    {
        Parser = (s, t, label) => s with { CacheTypeK = CacheType(t, label) },
        Shower = s => s.CacheTypeK.ToString().ToLowerInvariant(),
    };

    /// <summary>-ctv/--cache-type-v.</summary>
    public static EngineOption CacheTypeV { get; } = new("cache_type_v", "--cache-type-v", ["-ctv"], CacheTypeNames,
        "Element type of the V cache (a quantized V cache needs flash attention, which auto turns on)", "f16", false)
    {
        Parser = (s, t, label) => s with { CacheTypeV = CacheType(t, label) },
        Shower = s => s.CacheTypeV.ToString().ToLowerInvariant(),
    };

    /// <summary>--rope-freq-base.</summary>
    public static EngineOption RopeFreqBase { get; } = new("rope_freq_base", "--rope-freq-base", [], "N",
        "RoPE base frequency (NTK-aware scaling); 0 = the model's own", "the model's", false)
    {
        Parser = (s, t, label) => s with { RopeFreqBase = NonNegativeFloat(t, label) },
        Shower = s => s.RopeFreqBase.ToString(Inv),
    };

    /// <summary>--rope-freq-scale.</summary>
    public static EngineOption RopeFreqScale { get; } = new("rope_freq_scale", "--rope-freq-scale", [], "N",
        "RoPE frequency scaling factor: expands the context by a factor of 1/N; 0 = the model's own", "the model's", false)
    {
        Parser = (s, t, label) => s with { RopeFreqScale = NonNegativeFloat(t, label) },
        Shower = s => s.RopeFreqScale.ToString(Inv),
    };

    /// <summary>Every engine option, in --help order.</summary>
    public static IReadOnlyList<EngineOption> All { get; } =
        [GpuLayers, MainGpu, SplitMode, TensorSplit, NoMmap, Mlock, FlashAttn, CacheTypeK, CacheTypeV, RopeFreqBase, RopeFreqScale];

    private const string CacheTypeNames = "f32|f16|bf16|q8_0|q4_0|q4_1|iq4_nl|q5_0|q5_1";

    private static GgufOptimizeException Bad(string label, string text, string expected) =>
        GgufOptimizeException.BadInput($"{label} '{text}' is not valid: expected {expected}");

    private static int NonNegativeInt(string t, string label, string expected) =>
        int.TryParse(t, NumberStyles.Integer, Inv, out int n) && n >= 0 ? n : throw Bad(label, t, expected);

    private static float NonNegativeFloat(string t, string label) =>
        float.TryParse(t, NumberStyles.Float, Inv, out float f) && float.IsFinite(f) && f >= 0 ? f
            : throw Bad(label, t, "a number ≥ 0 (0 = the model's own value)");

    private static bool Bool(string t, string label) => t.ToLowerInvariant() switch
    {
        "" or "true" or "yes" or "on" or "1" => true,
        "false" or "no" or "off" or "0" => false,
        _ => throw Bad(label, t, "true or false"),
    };

    private static GgmlType CacheType(string t, string label)
    {
        foreach (var type in EngineSettings.CacheTypes)
            if (string.Equals(type.ToString(), t, StringComparison.OrdinalIgnoreCase)) return type;
        throw Bad(label, t, "one of " + CacheTypeNames.Replace("|", ", "));
    }

    private static IReadOnlyList<float> ParseSplit(string t, string label)
    {
        if (t.Length == 0) return [];
        var parts = t.Split([',', '/'], StringSplitOptions.TrimEntries);
        var values = new float[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!float.TryParse(parts[i], NumberStyles.Float, Inv, out values[i]) || !float.IsFinite(values[i]) || values[i] < 0)
                throw Bad(label, t, "proportions ≥ 0 separated by commas, e.g. 3,1");
        if (values.All(v => v == 0)) throw Bad(label, t, "at least one proportion above 0");
        return values;
    }
}
