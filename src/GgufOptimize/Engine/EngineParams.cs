using System.Globalization;
using LLama.Native;

namespace GgufOptimize.Engine;

/// <summary>
/// <see cref="EngineSettings"/> written into llama.cpp's <c>llama_model_params</c> and <c>llama_context_params</c>,
/// and the provenance text that records the settings able to change logits.
/// </summary>
internal static class EngineParams
{
    /// <summary>The model parameters for <paramref name="settings"/>, except <c>tensor_split</c> (a pointer the loader sets while it is pinned).</summary>
    public static LLamaModelParams Model(EngineSettings settings, bool vocabOnly = false)
    {
        var p = LLamaModelParams.Default();
        p.n_gpu_layers = settings.GpuLayers;
        p.main_gpu = settings.MainGpu;
        p.split_mode = (GPUSplitMode)(int)settings.SplitMode;
        p.load_mode = (settings.UseMmap, settings.UseMlock) switch
        {
            (true, true) => LLamaLoadMode.MemoryMapAndLock,
            (true, false) => LLamaLoadMode.MemoryMap,
            (false, true) => LLamaLoadMode.MemoryLock,
            (false, false) => LLamaLoadMode.None,
        };
        p.vocab_only = vocabOnly;
        return p;
    }

    /// <summary>
    /// llama.cpp reads one proportion per device it has (up to llama_max_devices), so the array is padded with zeros
    /// to that length; null when no split is given (llama.cpp then splits by free memory).
    /// </summary>
    public static float[]? TensorSplit(EngineSettings settings)
    {
        if (settings.TensorSplit.Count == 0) return null;
        int max = (int)NativeApi.llama_max_devices();
        if (settings.TensorSplit.Count > max)
            throw Common.GgufOptimizeException.BadInput($"{EngineOptionTable.TensorSplit.Name} has {settings.TensorSplit.Count} proportions but this llama.cpp supports at most {max} devices");
        var values = new float[max];
        for (int i = 0; i < settings.TensorSplit.Count; i++) values[i] = settings.TensorSplit[i];
        return values;
    }

    /// <summary>Sets the attention, cache and RoPE fields of <paramref name="p"/>.</summary>
    public static void ApplyTo(EngineSettings settings, ref LLamaContextParams p)
    {
        p.llama_flash_attn_type = (LLamaFlashAttentionType)(int)settings.FlashAttention;
        p.type_k = (GGMLType)(int)settings.CacheTypeK;
        p.type_v = (GGMLType)(int)settings.CacheTypeV;
        p.rope_freq_base = settings.RopeFreqBase;
        p.rope_freq_scale = settings.RopeFreqScale;
    }

    /// <summary>
    /// Every setting that can change the logits, as "key value" pairs: batch sizes (the micro-batch changes the order
    /// of float sums), attention kernel, cache types, RoPE, GPU placement (offloaded layers run other kernels; left out
    /// when the library has no GPU backend, where they do nothing) and the native library. Left out on purpose, because
    /// they give bit-identical logits: threads (ggml's CPU kernels split work, not sums), --no-mmap and --mlock (the same
    /// weight bytes, only read or pinned differently).
    /// </summary>
    public static string Describe(LLamaContextParams p, EngineSettings settings)
    {
        var inv = CultureInfo.InvariantCulture;
        string Model(float v) => v == 0 ? "model" : v.ToString(inv);
        var pairs = new List<string>
        {
            $"n_batch {p.n_batch}", $"n_ubatch {p.n_ubatch}",
            $"flash_attn {EngineOptionTable.FlashAttn.Show(settings)}",
            $"type_k {EngineOptionTable.CacheTypeK.Show(settings)}", $"type_v {EngineOptionTable.CacheTypeV.Show(settings)}",
            $"rope_freq_base {Model(settings.RopeFreqBase)}", $"rope_freq_scale {Model(settings.RopeFreqScale)}",
            $"offload_kqv {p.offload_kqv}",
        };
        if (NativeRuntime.SupportsGpuOffload)
        {
            pairs.Add($"n_gpu_layers {EngineOptionTable.GpuLayers.Show(settings)}");
            pairs.Add($"split_mode {EngineOptionTable.SplitMode.Show(settings)}");
            pairs.Add($"main_gpu {settings.MainGpu}");
            if (settings.TensorSplit.Count > 0) pairs.Add($"tensor_split {EngineOptionTable.TensorSplit.Show(settings)}");
        }
        else pairs.Add("n_gpu_layers 0 (no GPU backend)");
        pairs.Add(NativeRuntime.LibraryIdentity);
        return string.Join(", ", pairs);
    }
}
