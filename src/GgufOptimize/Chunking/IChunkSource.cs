namespace GgufOptimize.Chunking;

/// <summary>
/// Which tokens form which chunk. Three rules implement it: ours (<see cref="ChunkPlan"/>), llama-perplexity's
/// (<see cref="LlamaCppChunks"/>) and llama-gguf-optimize's (<see cref="PythonToolChunks"/>); readers and writers
/// of stored logits take ready chunk tokens from here and never tokenize themselves.
/// </summary>
internal interface IChunkSource
{
    /// <summary>Tokens per chunk at most (the evaluation context).</summary>
    int ContextSize { get; }

    int ChunkCount { get; }

    /// <summary>The exact tokens chunk <paramref name="index"/> is evaluated on, specials included.</summary>
    int[] Chunk(int index);

    /// <summary>Length of chunk <paramref name="index"/> in tokens.</summary>
    int ChunkLength(int index) => Chunk(index).Length;
}
