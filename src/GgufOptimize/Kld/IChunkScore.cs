using GgufOptimize.Metrics;

namespace GgufOptimize.Kld;

/// <summary>
/// One chunk being compared: the target's rows arrive a batch at a time, in position order, and are scored against
/// the baseline's matching rows at once, so neither side ever holds the whole chunk's logits.
/// </summary>
internal interface IChunkScore
{
    /// <summary>Scores the target's rows of positions [first, first + rows.Count) (valid only during the call).</summary>
    void Add(int first, LogitRows rows);

    /// <summary>The chunk's result, once the target's rows up to the chunk's end have arrived.</summary>
    ChunkResult Finish();
}
