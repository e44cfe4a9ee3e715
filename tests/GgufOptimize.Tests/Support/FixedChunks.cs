using GgufOptimize.Chunking;

namespace GgufOptimize.Tests.Support;

/// <summary>Chunks of given lengths with deterministic tokens below <c>vocab</c>, for writers that need no model.</summary>
internal sealed class FixedChunks(int contextSize, int[] lengths, int vocab) : IChunkSource
{
    public int ContextSize => contextSize;
    public int ChunkCount => lengths.Length;
    public int[] Chunk(int index) => Enumerable.Range(0, lengths[index]).Select(i => (index * 31 + i) % vocab).ToArray();
}
