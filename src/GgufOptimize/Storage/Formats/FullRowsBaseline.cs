using GgufOptimize.Metrics;

namespace GgufOptimize.Storage.Formats;

/// <summary>A baseline with full logits rows (ours, compressed or not, or the Python tool's), scored exactly by <see cref="ChunkScorer"/>.</summary>
internal sealed class FullRowsBaseline(ILogitsSource rows, StoredLogitsKind kind, BaselineHeader? header, string identity, int processedCount) : IStoredBaseline
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

    public bool HasChunk(int chunk) => rows.HasChunk(chunk);

    public int[] ChunkTokens(int chunk) => rows.ChunkTokens(chunk);

    public ChunkScoring BeginScore(int chunk, LogitRows target, int[] tokens, int skipFirst, int threads = 1) =>
        ChunkScorer.Begin(chunk, rows.ChunkRows(chunk), target, tokens, skipFirst, threads);

    public void Dispose() => rows.Dispose();
}
