using GgufOptimize.Chunking;

namespace GgufOptimize.Merging;

/// <summary>The chunks a stored baseline was made on, read back from its tokens (a merge runs no tokenizer).</summary>
internal sealed class StoredChunkTokens(int contextSize, int chunkCount, Func<int, int[]> tokens) : IChunkSource
{
    public int ContextSize => contextSize;
    public int ChunkCount => chunkCount;
    public int[] Chunk(int index) => tokens(index);
}
