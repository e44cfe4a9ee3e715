using GgufOptimize.Metrics;

namespace GgufOptimize.Storage.Formats;

/// <summary>A baseline with full logits rows (ours, compressed or not, or the Python tool's), scored exactly by <see cref="ChunkScorer"/>.</summary>
public sealed class FullRowsBaseline(ILogitsSource rows, StoredLogitsKind kind, BaselineHeader? header, string identity, int processedCount) : IStoredBaseline
{
    public string Path => rows.Path;
    public StoredLogitsKind Kind => kind;
    public BaselineHeader? Header => header;
    public string Identity => identity;
    public int ContextSize => rows.ContextSize;
    public int VocabSize => rows.VocabSize;
    public int TotalChunks => rows.TotalChunks;
    public int ProcessedCount => processedCount;
    public int FirstStoredPosition => 0;
    public ILogitsSource Rows => rows;
    ILogitsSource? IStoredBaseline.Rows => rows;

    public bool HasChunk(int chunk) => rows.HasChunk(chunk);

    public int[] ChunkTokens(int chunk) => rows.ChunkTokens(chunk);

    public ChunkResult Score(int chunk, ReadOnlySpan<float> target, ReadOnlySpan<int> tokens, int skipFirst, int threads = 1) => rows.IsHalf
        ? ParallelChunkScorer.Score(chunk, rows.ChunkLogitsHalf(chunk), target, tokens, VocabSize, skipFirst, threads)
        : ParallelChunkScorer.Score(chunk, rows.ChunkLogits(chunk), target, tokens, VocabSize, skipFirst, threads);

    public void Dispose() => rows.Dispose();
}
