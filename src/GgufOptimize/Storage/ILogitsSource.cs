using GgufOptimize.Metrics;

namespace GgufOptimize.Storage;

/// <summary>
/// Stored logits of one model over fixed chunks of tokens, whatever the file format. Spans returned stay valid
/// until the next call on the same source.
/// </summary>
internal interface ILogitsSource : IDisposable
{
    string Path { get; }
    /// <summary>What produced the logits (model file name and hash), for provenance and mismatch errors.</summary>
    string Origin { get; }
    int ContextSize { get; }
    int VocabSize { get; }
    int TotalChunks { get; }
    bool HasChunk(int chunk);
    /// <summary>The exact tokens the chunk was evaluated on (BOS/EOS included).</summary>
    int[] ChunkTokens(int chunk);
    /// <summary>The chunk's logits as float32 rows, whatever the stored precision (valid until the next call).</summary>
    LogitRows ChunkRows(int chunk);
}
