namespace GgufOptimize.Logits;

/// <summary>Settings of one <c>logits</c> run (the equivalent of generate_logits.py).</summary>
public sealed record LogitsJobOptions
{
    public required string ModelPath { get; init; }
    public required string DatasetPath { get; init; }
    public required string OutputPath { get; init; }
    /// <summary>Chunk length in tokens; 0 = the model's training context capped at <see cref="MaxDefaultContext"/>.</summary>
    public int ContextSize { get; init; }
    public int BatchSize { get; init; }
    public int UBatchSize { get; init; }
    public int Threads { get; init; }
    /// <summary>32 or 16.</summary>
    public int Precision { get; init; } = 32;
    /// <summary>None: contiguous, written in place at disk speed. Gzip: chunked + deflate, produced at the end.</summary>
    public LogitsCompression Compression { get; init; } = LogitsCompression.None;
    /// <summary>First chunk to compute (inclusive).</summary>
    public int FromChunk { get; init; }
    /// <summary>Last chunk to compute (exclusive); null = all.</summary>
    public int? ToChunk { get; init; }
    /// <summary>Replace an existing output made from other inputs instead of refusing.</summary>
    public bool Clobber { get; init; }

    public const int MaxDefaultContext = 4096;
}

public enum LogitsCompression { None, Gzip }
