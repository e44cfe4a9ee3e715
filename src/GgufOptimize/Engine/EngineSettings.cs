using GgufOptimize.Gguf;

namespace GgufOptimize.Engine;

/// <summary>How layers are spread over several GPUs (llama.cpp's <c>llama_split_mode</c>, same numbers).</summary>
internal enum GpuSplitMode
{
    /// <summary>Everything on the main GPU.</summary>
    None = 0,
    /// <summary>Whole layers (and their KV cache) per GPU; llama.cpp's default.</summary>
    Layer = 1,
    /// <summary>Rows of each weight matrix across GPUs.</summary>
    Row = 2,
    /// <summary>Tensor parallelism across GPUs (needs flash attention; not every architecture).</summary>
    Tensor = 3,
}

/// <summary>llama.cpp's <c>llama_flash_attn_type</c> (same numbers).</summary>
internal enum FlashAttention
{
    /// <summary>llama.cpp decides per model and backend (its default).</summary>
    Auto = -1,
    /// <summary>Never.</summary>
    Off = 0,
    /// <summary>Always.</summary>
    On = 1,
}

/// <summary>
/// How llama.cpp loads a model and sets up a context, beyond the chunk and batch sizes: GPU placement, memory mapping,
/// attention kernel, KV-cache types and RoPE overrides. One record for every command that runs a model; the defaults
/// are llama.cpp's own (common/arg.cpp at the pinned commit). <see cref="EngineOptionTable"/> parses the
/// command-line/plan spellings into it.
/// </summary>
internal sealed record EngineSettings
{
    /// <summary>llama.cpp's defaults.</summary>
    public static EngineSettings Default { get; } = new();

    /// <summary>Layers stored in VRAM; <see cref="AutoGpuLayers"/> lets llama.cpp choose (all that fit on a GPU build).</summary>
    public int GpuLayers { get; init; } = AutoGpuLayers;
    /// <summary>llama.cpp's "use the default" value of n_gpu_layers.</summary>
    public const int AutoGpuLayers = -1;
    /// <summary>The GPU used for the whole model with <see cref="GpuSplitMode.None"/> (and for intermediate results with row split).</summary>
    public int MainGpu { get; init; }
    /// <summary>How the model is spread over several GPUs.</summary>
    public GpuSplitMode SplitMode { get; init; } = GpuSplitMode.Layer;
    /// <summary>Fraction of the model per GPU, in device order; empty = llama.cpp's choice (by free memory).</summary>
    public IReadOnlyList<float> TensorSplit { get; init; } = [];
    /// <summary>Memory-map the weights (llama.cpp's default); false reads them into allocated memory (--no-mmap).</summary>
    public bool UseMmap { get; init; } = true;
    /// <summary>Lock the weights in RAM so the OS never pages them out (--mlock).</summary>
    public bool UseMlock { get; init; }
    /// <summary>Flash attention: on, off or auto.</summary>
    public FlashAttention FlashAttention { get; init; } = FlashAttention.Auto;
    /// <summary>Element type of the K cache (f16 by default; quantized caches change the logits).</summary>
    public GgmlType CacheTypeK { get; init; } = GgmlType.F16;
    /// <summary>Element type of the V cache; a quantized V cache needs flash attention.</summary>
    public GgmlType CacheTypeV { get; init; } = GgmlType.F16;
    /// <summary>RoPE base frequency; 0 = the model's own (its GGUF metadata).</summary>
    public float RopeFreqBase { get; init; }
    /// <summary>RoPE frequency scaling factor (1/linear context extension); 0 = the model's own.</summary>
    public float RopeFreqScale { get; init; }
    /// <summary>
    /// The training context to assume instead of the GGUF's (from --hf-model-config's max_position_embeddings); 0 = the
    /// model's own. It only sets what the default chunk length is derived from and what it is checked against.
    /// </summary>
    public long TrainContext { get; init; }

    /// <summary>
    /// The KV-cache element types llama.cpp's tools accept for -ctk/-ctv (common/arg.cpp's list at the pinned commit).
    /// </summary>
    public static IReadOnlyList<GgmlType> CacheTypes { get; } =
        [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.IQ4_NL, GgmlType.Q5_0, GgmlType.Q5_1];

    /// <summary>
    /// The settings that can change logits, as key=value text for the identity of cached work (iterate's steps,
    /// imatrix snapshots); empty for llama.cpp's defaults, so work done before these options existed stays valid.
    /// --no-mmap and --mlock are left out: the same weight bytes give the same logits.
    /// </summary>
    public string LogitsKey()
    {
        var relevant = EngineOptionTable.All.Where(o => o != EngineOptionTable.NoMmap && o != EngineOptionTable.Mlock)
            .Where(o => o.Show(this) != o.Show(Default))
            .Select(o => $"{o.Key}={o.Show(this)}");
        return string.Join(";", relevant);
    }

    /// <summary>Value equality that compares <see cref="TensorSplit"/> element by element (a record compares the list reference).</summary>
    public bool Equals(EngineSettings? other) =>
        other is not null && GpuLayers == other.GpuLayers && MainGpu == other.MainGpu && SplitMode == other.SplitMode &&
        TensorSplit.SequenceEqual(other.TensorSplit) && UseMmap == other.UseMmap && UseMlock == other.UseMlock &&
        FlashAttention == other.FlashAttention && CacheTypeK == other.CacheTypeK && CacheTypeV == other.CacheTypeV &&
        RopeFreqBase.Equals(other.RopeFreqBase) && RopeFreqScale.Equals(other.RopeFreqScale) && TrainContext == other.TrainContext;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(GpuLayers, SplitMode, FlashAttention, CacheTypeK, CacheTypeV, RopeFreqBase, RopeFreqScale, UseMmap);
}
