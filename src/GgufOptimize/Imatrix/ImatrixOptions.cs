namespace GgufOptimize.Imatrix;

/// <summary>What <see cref="ImatrixBuilder"/> computes, merges or converts.</summary>
internal sealed record ImatrixOptions
{
    /// <summary>Model to evaluate; with <see cref="DatasetPath"/>. Optional when only merging/converting <see cref="InFiles"/>.</summary>
    public string? ModelPath { get; init; }
    /// <summary>Calibration text (UTF-8).</summary>
    public string? DatasetPath { get; init; }
    public required string OutputPath { get; init; }
    public ImatrixFileFormat Format { get; init; } = ImatrixFileFormat.Gguf;
    /// <summary>Existing imatrices whose statistics are added first (merge, convert, or continue).</summary>
    public IReadOnlyList<string> InFiles { get; init; } = [];
    /// <summary>Chunks to evaluate; null = all remaining.</summary>
    public int? Chunks { get; init; }
    /// <summary>Chunks of the dataset to skip first (0-based index of the first chunk evaluated).</summary>
    public int FromChunk { get; init; }
    /// <summary>--shard K/N: only the K-th of N balanced pieces of the chunks [FromChunk, FromChunk + Chunks).</summary>
    public Chunking.ChunkShard? Shard { get; init; }
    /// <summary>Tokens per chunk; 0 = the model's training context, at most 512.</summary>
    public int ContextSize { get; init; }
    public int BatchSize { get; init; }
    /// <summary>Physical micro-batch (only from --tuning; 0 = the batch size).</summary>
    public int UBatchSize { get; init; }
    public int Threads { get; init; }
    /// <summary>--tuning: the tune.json the batch/threads came from, checked against the model and context that run.</summary>
    public GgufOptimize.Tuning.StoredTuning? Tuning { get; init; }
    /// <summary>GPU placement, memory mapping, attention, cache types and RoPE (llama.cpp's defaults unless given).</summary>
    public GgufOptimize.Engine.EngineSettings Engine { get; init; } = GgufOptimize.Engine.EngineSettings.Default;
    /// <summary>Also collect the inputs of <c>output.weight</c>.</summary>
    public bool ProcessOutput { get; init; }
    /// <summary>Write a resumable snapshot every this many chunks (0 = only when interrupted).</summary>
    public int SaveFrequency { get; init; }
    /// <summary>Recompute even when the output exists.</summary>
    public bool Overwrite { get; init; }
}

/// <summary>What a run did.</summary>
internal sealed record ImatrixResult
{
    public required string OutputPath { get; init; }
    /// <summary>True when the output existed and nothing was done.</summary>
    public bool Skipped { get; init; }
    public int ChunksEvaluated { get; init; }
    /// <summary>Chunks taken over from a snapshot of an interrupted run.</summary>
    public int ChunksResumed { get; init; }
    public long TokensEvaluated { get; init; }
    public int Entries { get; init; }
    public int ChunkCount { get; init; }
    public TimeSpan Elapsed { get; init; }
    public double TokensPerSecond => Elapsed.TotalSeconds > 0 ? TokensEvaluated / Elapsed.TotalSeconds : 0;
}
