using GgufOptimize.Common;

namespace GgufOptimize.Chunking;

/// <summary>
/// llama-perplexity's chunking, which a .kld file implies: the whole text tokenized once with BOS prepended (when the
/// model adds BOS), cut into ⌊n_tokens / n_ctx⌋ chunks of exactly n_ctx tokens (the rest is dropped), and each chunk's
/// first token replaced by BOS for evaluation. It differs from our <see cref="ChunkPlan"/>, which puts BOS in
/// front of each chunk's text and keeps every text token.
/// </summary>
internal sealed class LlamaCppChunks : IChunkSource
{
    private readonly int[] _tokens;

    public int ContextSize { get; }
    public int ChunkCount { get; }
    /// <summary>Substituted for each chunk's first token, when the model adds BOS.</summary>
    public int? Bos { get; }
    /// <summary>The n_chunk·n_ctx tokens as the file stores them (no substitution).</summary>
    public ReadOnlySpan<int> Tokens => _tokens;

    public LlamaCppChunks(int[] tokens, int contextSize, int? bos)
    {
        if (contextSize < 4) throw GgufOptimizeException.BadInput($"llama.cpp chunks need a context of at least 4 tokens (got {contextSize})");
        if (tokens.Length % contextSize != 0) throw new ArgumentException("tokens must be whole chunks");
        _tokens = tokens;
        ContextSize = contextSize;
        ChunkCount = tokens.Length / contextSize;
        Bos = bos;
    }

    /// <summary>Chunks of <paramref name="textTokens"/> (the text tokenized without specials) as llama-perplexity makes them.</summary>
    public static LlamaCppChunks FromText(int[] textTokens, int contextSize, bool addBos, int? bos, bool addEos, int? maxChunks)
    {
        if (addEos) throw GgufOptimizeException.BadInput("--format llamacpp: llama-perplexity refuses models that add EOS (tokenizer.ggml.add_eos_token), so no .kld file can be made for this model");
        int? prefix = addBos ? bos : null;
        long total = textTokens.LongLength + (prefix.HasValue ? 1 : 0);
        long chunks = total / contextSize;
        if (maxChunks is { } m) chunks = Math.Min(chunks, m);
        if (chunks < 1) throw GgufOptimizeException.BadInput($"--format llamacpp: the dataset has {total} tokens, fewer than one chunk of {contextSize} (llama-perplexity drops a partial last chunk)");
        var tokens = new int[chunks * contextSize];
        int w = 0;
        if (prefix is { } b) tokens[w++] = b;
        Array.Copy(textTokens, 0, tokens, w, tokens.Length - w);
        return new LlamaCppChunks(tokens, contextSize, prefix);
    }

    /// <summary>The tokens chunk <paramref name="index"/> is evaluated on (first one replaced by BOS when set).</summary>
    public int[] Chunk(int index)
    {
        if ((uint)index >= (uint)ChunkCount) throw new ArgumentOutOfRangeException(nameof(index));
        var result = _tokens.AsSpan(index * ContextSize, ContextSize).ToArray();
        if (Bos is { } b) result[0] = b;
        return result;
    }
}
