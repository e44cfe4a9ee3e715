namespace GgufOptimize.Gguf;

/// <summary>What <c>gguf-optimize inspect</c> reports about a GGUF model; fields absent from the file are null.</summary>
internal sealed record ModelSummary
{
    public required string Path { get; init; }
    public required long FileBytes { get; init; }
    public required int GgufVersion { get; init; }
    public required long Alignment { get; init; }
    public string? Architecture { get; init; }
    public string? Name { get; init; }
    /// <summary>Elements of all tensors (a classifier stored as a copy of the embedding counts twice, as in llama.cpp).</summary>
    public required long ParameterCount { get; init; }
    public long? EmbeddingLength { get; init; }
    public long? BlockCount { get; init; }
    /// <summary>Attention heads; for models with a per-layer list, the largest.</summary>
    public long? HeadCount { get; init; }
    public long? HeadCountKv { get; init; }
    public long? FeedForwardLength { get; init; }
    public long? ContextLength { get; init; }
    public int? VocabSize { get; init; }
    /// <summary>tokenizer.ggml.model ("llama" = SentencePiece, "gpt2" = byte-level BPE, ...).</summary>
    public string? TokenizerModel { get; init; }
    /// <summary>general.file_type (a llama_ftype id).</summary>
    public int? FileType { get; init; }
    public string? FileTypeName { get; init; }
    public required int TensorCount { get; init; }
    public required IReadOnlyList<TensorTypeCount> TensorTypes { get; init; }
    /// <summary>Bytes of tensor data (without alignment padding).</summary>
    public required long TensorDataBytes { get; init; }
    /// <summary>Tensor data bits divided by the parameter count.</summary>
    public required double BitsPerWeight { get; init; }
    public required int MetadataCount { get; init; }
    /// <summary>A split model's shards in order (file name, bytes, tensors); empty for a single file.</summary>
    public IReadOnlyList<ShardSummary> Shards { get; init; } = [];
    /// <summary>Every metadata key with a shortened value; filled only when asked for.</summary>
    public IReadOnlyList<MetadataEntry>? Metadata { get; init; }
}

/// <summary>One shard of a split model.</summary>
internal sealed record ShardSummary(string File, long Bytes, int Tensors);

/// <summary>How many tensors (and how many of their elements and bytes) are stored in one ggml type.</summary>
internal sealed record TensorTypeCount(string Type, int Tensors, long Parameters, long Bytes);

/// <summary>A metadata key, its GGUF type ("uint32", "array[string]") and its value rendered on one line.</summary>
internal sealed record MetadataEntry(string Key, string Type, string Value);
