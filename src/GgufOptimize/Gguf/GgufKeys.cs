namespace GgufOptimize.Gguf;

/// <summary>Well-known metadata keys; per-architecture keys are prefixed with the architecture name.</summary>
internal static class GgufKeys
{
    public const string Architecture = "general.architecture";
    public const string Name = "general.name";
    public const string FileType = "general.file_type";
    public const string Alignment = "general.alignment";
    public const string QuantizationVersion = "general.quantization_version";

    /// <summary>Provenance llama-quantize writes into a model quantized with an imatrix.</summary>
    public const string ImatrixFile = "quantize.imatrix.file";
    public const string ImatrixDataset = "quantize.imatrix.dataset";
    public const string ImatrixEntries = "quantize.imatrix.entries_count";
    public const string ImatrixChunks = "quantize.imatrix.chunks_count";

    public const string TokenizerModel = "tokenizer.ggml.model";
    public const string Tokens = "tokenizer.ggml.tokens";
    public const string Scores = "tokenizer.ggml.scores";
    public const string TokenTypes = "tokenizer.ggml.token_type";
    public const string BosTokenId = "tokenizer.ggml.bos_token_id";
    public const string EosTokenId = "tokenizer.ggml.eos_token_id";
    public const string UnknownTokenId = "tokenizer.ggml.unknown_token_id";
    public const string AddBosToken = "tokenizer.ggml.add_bos_token";
    public const string AddEosToken = "tokenizer.ggml.add_eos_token";

    public static string ContextLength(string arch) => arch + ".context_length";
    public static string EmbeddingLength(string arch) => arch + ".embedding_length";
    public static string BlockCount(string arch) => arch + ".block_count";
    public static string FeedForwardLength(string arch) => arch + ".feed_forward_length";
    public static string HeadCount(string arch) => arch + ".attention.head_count";
    public static string HeadCountKv(string arch) => arch + ".attention.head_count_kv";
    public static string RmsEpsilon(string arch) => arch + ".attention.layer_norm_rms_epsilon";
    public static string RopeDimensionCount(string arch) => arch + ".rope.dimension_count";
    public static string RopeFreqBase(string arch) => arch + ".rope.freq_base";
    public static string VocabSize(string arch) => arch + ".vocab_size";
}
