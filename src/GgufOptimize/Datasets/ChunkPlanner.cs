using GgufOptimize.Common;

namespace GgufOptimize.Datasets;

/// <summary>
/// How a tokenized text is cut into evaluation chunks (shared by every command that evaluates a dataset,
/// so their chunks line up). The text is tokenized once, without special tokens; every chunk holds
/// <c>n_ctx − [BOS] − [EOS]</c> text tokens, prefixed by BOS when the model's tokenizer adds one and
/// suffixed by EOS when it adds one; the last chunk may be shorter.
/// </summary>
public static class ChunkPlanner
{
    /// <summary>Text tokens per chunk for a context of <paramref name="contextSize"/> tokens.</summary>
    public static int TextTokensPerChunk(int contextSize, bool addBos, bool addEos)
    {
        int n = contextSize - (addBos ? 1 : 0) - (addEos ? 1 : 0);
        if (n < 1) throw GgufOptimizeException.BadInput($"a context of {contextSize} tokens leaves no room for text");
        return n;
    }

    /// <summary>Number of chunks a text of <paramref name="textTokens"/> tokens yields (the last may be partial).</summary>
    public static int ChunkCount(long textTokens, int contextSize, bool addBos, bool addEos)
    {
        int per = TextTokensPerChunk(contextSize, addBos, addEos);
        return checked((int)((textTokens + per - 1) / per));
    }

    /// <summary>The tokens of chunk <paramref name="index"/>: [BOS] text… [EOS].</summary>
    public static int[] Chunk(ReadOnlySpan<int> textTokens, int index, int contextSize, int? bos, int? eos)
    {
        int per = TextTokensPerChunk(contextSize, bos.HasValue, eos.HasValue);
        long start = (long)index * per;
        if (index < 0 || start >= textTokens.Length) throw new ArgumentOutOfRangeException(nameof(index), $"chunk {index} is past the end of the text");
        int n = (int)Math.Min(per, textTokens.Length - start);
        var chunk = new int[n + (bos.HasValue ? 1 : 0) + (eos.HasValue ? 1 : 0)];
        int at = 0;
        if (bos is { } b) chunk[at++] = b;
        textTokens.Slice((int)start, n).CopyTo(chunk.AsSpan(at));
        at += n;
        if (eos is { } e) chunk[at] = e;
        return chunk;
    }
}
