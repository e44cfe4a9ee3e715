using GgufOptimize.Metrics;

namespace GgufOptimize.Kld;

/// <summary>A stored baseline's scoring of one chunk, fed the target's batches through a <see cref="LogitWindow"/>.</summary>
internal sealed class WindowedChunkScore(LogitWindow target, ChunkScoring scoring) : IChunkScore
{
    public void Add(int first, LogitRows rows)
    {
        target.Show(first, rows);
        scoring.Score(first, first + rows.Count);
    }

    public ChunkResult Finish() => scoring.Finish();
}
