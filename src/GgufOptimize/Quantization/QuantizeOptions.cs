namespace GgufOptimize.Quantization;

/// <summary>A quantization run: one model, several types, the same options for each.</summary>
internal sealed record QuantizeOptions
{
    public required string ModelPath { get; init; }
    public required IReadOnlyList<QuantizationType> Types { get; init; }
    public required string OutputDirectory { get; init; }
    /// <summary>Output name stem; null = from the input file name (a trailing -f32/-f16/-bf16 dropped).</summary>
    public string? Name { get; init; }
    /// <summary>Importance matrix (GGUF or legacy .dat).</summary>
    public string? ImatrixPath { get; init; }
    /// <summary>Goes into output names as "-imat-&lt;tag&gt;"; null = the imatrix file name without extension.</summary>
    public string? ImatrixTag { get; init; }
    /// <summary>Use the imatrix only for weights whose names contain one of these.</summary>
    public IReadOnlyList<string> IncludeWeights { get; init; } = [];
    /// <summary>Do not use the imatrix for weights whose names contain one of these.</summary>
    public IReadOnlyList<string> ExcludeWeights { get; init; } = [];
    public string? OutputTensorType { get; init; }
    public string? TokenEmbeddingType { get; init; }
    public IReadOnlyList<TensorTypeRule> TensorTypes { get; init; } = [];
    /// <summary>Every tensor in the type's base type (no k-quant mixture).</summary>
    public bool Pure { get; init; }
    /// <summary>Keep output.weight as it is.</summary>
    public bool LeaveOutputTensor { get; init; }
    public bool AllowRequantize { get; init; }
    public int Threads { get; init; }
    /// <summary>Plan only; write nothing.</summary>
    public bool DryRun { get; init; }
    public bool Overwrite { get; init; }
    /// <summary>Write each output as llama.cpp split shards of at most this many bytes of tensor data (0 = no limit).</summary>
    public long SplitMaxBytes { get; init; }
    /// <summary>Write each output as llama.cpp split shards of at most this many tensors (0 = no limit).</summary>
    public int SplitMaxTensors { get; init; }
    /// <summary>Whether the outputs are written as shards (--split-max-size or --split-max-tensors).</summary>
    public bool Split => SplitMaxBytes > 0 || SplitMaxTensors > 0;
    /// <summary>Fail where llama.cpp would fail on a row length, instead of keeping that tensor in a type that fits.</summary>
    public bool Strict { get; init; }
    /// <summary>Chunk size assumed for a legacy .dat imatrix (it does not store one); only counts depend on it.</summary>
    public int LegacyImatrixChunkSize { get; init; } = Imatrix.ImatrixFile.DefaultLegacyChunkSize;
}
