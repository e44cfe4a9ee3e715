using GgufOptimize.Common;

namespace GgufOptimize.Chunking;

/// <summary>
/// The chunk rule shared by <c>logits</c>, <c>kld</c> and <c>imatrix</c>: the text is tokenized once without special
/// tokens; every chunk is one sequence of at most <see cref="ContextSize"/> tokens evaluated from an empty KV cache,
/// holding the next (ContextSize − [BOS] − [EOS]) text tokens, prefixed by BOS when the model's
/// <c>tokenizer.ggml.add_bos_token</c> is true and followed by EOS when <c>add_eos_token</c> is true. No text token
/// is dropped or repeated; only the last chunk may be shorter (it is kept when it holds at least one text token).
/// </summary>
internal sealed class ChunkPlan : IChunkSource
{
    private readonly int[] _textTokens;

    public int ContextSize { get; }
    public int? Bos { get; }
    public int? Eos { get; }
    public int TextTokensPerChunk { get; }
    public int ChunkCount { get; }
    public long TextTokenCount => _textTokens.Length;

    public ChunkPlan(int[] textTokens, int contextSize, int? bos, int? eos)
    {
        int specials = (bos.HasValue ? 1 : 0) + (eos.HasValue ? 1 : 0);
        if (contextSize <= specials)
            throw GgufOptimizeException.BadInput($"--context-size {contextSize} leaves no room for text next to BOS/EOS");
        if (textTokens.Length == 0) throw GgufOptimizeException.BadInput("the dataset tokenizes to no tokens");
        _textTokens = textTokens;
        ContextSize = contextSize;
        Bos = bos;
        Eos = eos;
        TextTokensPerChunk = contextSize - specials;
        ChunkCount = (int)((textTokens.LongLength + TextTokensPerChunk - 1) / TextTokensPerChunk);
    }

    /// <summary>Builds the plan for a model's own BOS/EOS policy.</summary>
    public static ChunkPlan ForModel(int[] textTokens, int contextSize, bool addBos, int? bos, bool addEos, int? eos) =>
        new(textTokens, contextSize, addBos ? bos : null, addEos ? eos : null);

    /// <summary>The exact token sequence of chunk <paramref name="index"/> (BOS/EOS included).</summary>
    public int[] Chunk(int index)
    {
        if ((uint)index >= (uint)ChunkCount) throw new ArgumentOutOfRangeException(nameof(index));
        long start = (long)index * TextTokensPerChunk;
        int n = (int)Math.Min(TextTokensPerChunk, _textTokens.LongLength - start);
        var chunk = new int[n + (Bos.HasValue ? 1 : 0) + (Eos.HasValue ? 1 : 0)];
        int w = 0;
        if (Bos is { } b) chunk[w++] = b;
        Array.Copy(_textTokens, start, chunk, w, n);
        w += n;
        if (Eos is { } e) chunk[w] = e;
        return chunk;
    }

    /// <summary>Length of chunk <paramref name="index"/> in tokens, without building it.</summary>
    public int ChunkLength(int index)
    {
        long start = (long)index * TextTokensPerChunk;
        int n = (int)Math.Min(TextTokensPerChunk, _textTokens.LongLength - start);
        return n + (Bos.HasValue ? 1 : 0) + (Eos.HasValue ? 1 : 0);
    }
}
