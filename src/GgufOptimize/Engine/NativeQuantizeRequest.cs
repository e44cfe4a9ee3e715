namespace GgufOptimize.Engine;

/// <summary>One call of llama.cpp's <c>llama_model_quantize</c>, in managed terms. Type ids are ggml's.</summary>
internal sealed record NativeQuantizeRequest
{
    public required string InputPath { get; init; }
    /// <summary>Ignored by a dry run (nothing is written).</summary>
    public required string OutputPath { get; init; }
    /// <summary>llama_ftype id.</summary>
    public required int FileType { get; init; }
    public int Threads { get; init; }
    public int? OutputTensorType { get; init; }
    public int? TokenEmbeddingType { get; init; }
    public bool AllowRequantize { get; init; }
    public bool QuantizeOutputTensor { get; init; } = true;
    public bool OnlyCopy { get; init; }
    public bool Pure { get; init; }
    public bool DryRun { get; init; }
    /// <summary>Per weight, the importance of each input column (mean squared activation).</summary>
    public IReadOnlyList<KeyValuePair<string, float[]>> Imatrix { get; init; } = [];
    /// <summary>Regular expressions (searched in tensor names, first match wins) and the type to use.</summary>
    public IReadOnlyList<KeyValuePair<string, int>> TensorTypes { get; init; } = [];
    /// <summary>Metadata written into the output: values are strings or integers (stored as u32 by llama.cpp).</summary>
    public IReadOnlyList<KeyValuePair<string, object>> Metadata { get; init; } = [];
    /// <summary>Called as llama.cpp starts each tensor: (tensor number from 1, tensor count).</summary>
    public Action<int, int>? OnTensor { get; init; }
}

/// <summary>What llama.cpp did: success, and everything it logged on this thread while doing it.</summary>
internal sealed record NativeQuantizeResult(bool Succeeded, string Log);
