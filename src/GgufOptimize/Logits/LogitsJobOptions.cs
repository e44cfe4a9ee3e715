namespace GgufOptimize.Logits;

/// <summary>Settings of one <c>logits</c> run (the equivalent of generate_logits.py).</summary>
internal sealed record LogitsJobOptions
{
    public required string ModelPath { get; init; }
    public required string DatasetPath { get; init; }
    public required string OutputPath { get; init; }
    /// <summary>Chunk length in tokens; 0 = the model's training context capped at <see cref="Chunking.ChunkContext.MaxDefault"/>.</summary>
    public int ContextSize { get; init; }
    public int BatchSize { get; init; }
    public int UBatchSize { get; init; }
    public int Threads { get; init; }
    /// <summary>--tuning: the tune.json the batch/threads came from, checked against the model and context that run.</summary>
    public GgufOptimize.Tuning.StoredTuning? Tuning { get; init; }
    /// <summary>GPU placement, memory mapping, attention, cache types and RoPE (llama.cpp's defaults unless given).</summary>
    public GgufOptimize.Engine.EngineSettings Engine { get; init; } = GgufOptimize.Engine.EngineSettings.Default;
    /// <summary>32 or 16.</summary>
    public int Precision { get; init; } = 32;
    /// <summary>None: contiguous, written in place at disk speed. Gzip: chunked + deflate, produced at the end.</summary>
    public LogitsCompression Compression { get; init; } = LogitsCompression.None;
    /// <summary>Full rows (default), the compact top-tokens encoding, or llama.cpp's --kl-divergence-base file.</summary>
    public LogitsFormat Format { get; init; } = LogitsFormat.Full;
    /// <summary>Compact formats: ε, the probability mass at most left in each position's tail bucket; null = the format's default.</summary>
    public double? TailMass { get; init; }
    /// <summary>--format compact: the whole code mapping (null = <see cref="Storage.Formats.Compact.QuantizedRowSettings.Default"/> with <see cref="TailMass"/>); tests and benchmarks write compact-2 files with it.</summary>
    internal Storage.Formats.Compact.QuantizedRowSettings? QuantizedSettings { get; init; }
    /// <summary>First chunk to compute (inclusive).</summary>
    public int FromChunk { get; init; }
    /// <summary>Last chunk to compute (exclusive); null = all.</summary>
    public int? ToChunk { get; init; }
    /// <summary>--shard K/N: only the K-th of N balanced pieces of [FromChunk, ToChunk).</summary>
    public Chunking.ChunkShard? Shard { get; init; }
    /// <summary>Replace an existing output made from other inputs instead of refusing.</summary>
    public bool Clobber { get; init; }
    /// <summary>The caller's name for the end of the range, used in errors (<c>iterate</c> says --eval-chunks).</summary>
    public string ToChunkOption { get; init; } = Chunking.ChunkRange.ToOption;

    /// <summary>compact-1's default ε (compact's is <see cref="Storage.Formats.Compact.QuantizedRowSettings.Default"/>'s).</summary>
    public const double DefaultTailMass = 1e-4;

    /// <summary>The ε the chosen format will use.</summary>
    public double EffectiveTailMass => TailMass ?? (Format == LogitsFormat.QuantizedCompact ? Storage.Formats.Compact.QuantizedRowSettings.Default.TailMass : DefaultTailMass);
}

internal enum LogitsCompression
{
    /// <summary>Contiguous, written in place.</summary>
    None,
    /// <summary>Chunked + deflate, made at the end.</summary>
    Gzip,
    /// <summary>Chunked + h5py's LZF filter, made at the end: faster than deflate, smaller gains.</summary>
    Lzf,
}

internal enum LogitsFormat
{
    /// <summary>Every logit of every position, float32 or float16 (contiguous HDF5, or gzip-compressed).</summary>
    Full,
    /// <summary>compact-1: per position the top tokens up to 1 − ε with their float32 logits, the tail mass and log P(next) (HDF5).</summary>
    Compact,
    /// <summary>compact-4 (compact-2, then compact-3, before it; issue 13): compact-1's tokens with quantized, entropy-coded probabilities and a recorded error bound (HDF5).</summary>
    QuantizedCompact,
    /// <summary>llama-perplexity's --kl-divergence-base file (.kld): its own chunking, second half of each chunk, uint16 log-probs.</summary>
    LlamaCpp,
}
