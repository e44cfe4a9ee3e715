using GgufOptimize.Chunking;

namespace GgufOptimize.Kld;

/// <summary>The baseline side's chunks as a chunk source, so a file of target logits records the very tokens compared.</summary>
internal sealed class BaselineChunks(IBaselineSide baseline) : IChunkSource
{
    public int ContextSize => baseline.ContextSize;
    public int ChunkCount => baseline.TotalChunks;
    public int[] Chunk(int index) => baseline.ChunkTokens(index);
}
