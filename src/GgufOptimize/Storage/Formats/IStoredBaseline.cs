using GgufOptimize.Metrics;

namespace GgufOptimize.Storage.Formats;

/// <summary>
/// A stored baseline as <c>kld</c> uses it, whatever the file format: which chunks it holds, the tokens to run the
/// target on, and how a target chunk's logits are scored against it. Open one with <see cref="StoredBaselines"/>.
/// </summary>
internal interface IStoredBaseline : IDisposable
{
    string Path { get; }
    StoredLogitsKind Kind { get; }
    /// <summary>Provenance (model, dataset, tokenizer hashes) when the format records it: our files; null for foreign ones.</summary>
    BaselineHeader? Header { get; }
    /// <summary>A short description of the contents that changes whenever they do (for resuming saved comparisons).</summary>
    string Identity { get; }
    int ContextSize { get; }
    int VocabSize { get; }
    int TotalChunks { get; }
    int ProcessedCount { get; }
    /// <summary>Positions before this are not stored for any chunk (llama.cpp files keep the second half only).</summary>
    int FirstStoredPosition { get; }
    bool HasChunk(int chunk);
    /// <summary>The exact tokens the chunk was evaluated on.</summary>
    int[] ChunkTokens(int chunk);
    /// <summary>
    /// Scores positions max(skipFirst, FirstStoredPosition) … tokens.Length − 2 of the chunk against
    /// <paramref name="target"/> (one row per token), on up to <paramref name="threads"/> threads (the result does not
    /// depend on the thread count).
    /// </summary>
    ChunkResult Score(int chunk, LogitRows target, int[] tokens, int skipFirst, int threads = 1) =>
        BeginScore(chunk, target, tokens, skipFirst, threads).ScoreAll();

    /// <summary>
    /// The same scoring, fed a range of positions at a time as the target's rows arrive (<see cref="ChunkScoring.Score"/>);
    /// <paramref name="target"/> may be a <see cref="LogitWindow"/> that holds only the batch being scored.
    /// </summary>
    ChunkScoring BeginScore(int chunk, LogitRows target, int[] tokens, int skipFirst, int threads = 1);

    /// <summary>What the format guarantees about the KLD read from it, when it is not exact (null: exact or as llama.cpp computes it).</summary>
    string? Accuracy => null;

    /// <summary>After scoring: the largest and mean per-position error bound over the positions scored (null when the format has none).</summary>
    (double Worst, double Mean)? ScoredBound => null;
}

/// <summary>The kinds of stored logits files <see cref="StoredBaselines"/> recognizes.</summary>
internal enum StoredLogitsKind
{
    /// <summary>Ours: full float32/float16 rows, contiguous HDF5 read through a memory map.</summary>
    Full,
    /// <summary>Ours with --compression gzip: full rows, chunked + deflate HDF5 read through PureHDF.</summary>
    FullCompressed,
    /// <summary>Ours, compact-1: top tokens until 1 − ε with their float32 logits, tail mass, log P(next).</summary>
    Compact,
    /// <summary>Ours, compact-4 (or compact-3/compact-2): top tokens until 1 − ε with quantized probabilities, entropy-coded, with a recorded error bound.</summary>
    QuantizedCompact,
    /// <summary>llama-perplexity --kl-divergence-base: uint16-quantized log-probabilities of the second half of each chunk.</summary>
    LlamaCpp,
    /// <summary>llama-gguf-optimize's generate_logits.py: full rows, no tokens (re-tokenized from the dataset).</summary>
    PythonTool,
}
