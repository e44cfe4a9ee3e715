namespace GgufOptimize.Chunking;

/// <summary>
/// The chunks generate_logits.py evaluated (its files store no tokens, so they are rebuilt). Its rule, read from its
/// source: the text is tokenized once by llama-cpp-python with special tokens added (BOS in front when the vocab adds
/// BOS, EOS at the end when it adds EOS), or taken from DATASET.tokens.npy when that cache exists; chunk c holds
/// tokens [c·(n_ctx−2), (c+1)·(n_ctx−2)) — two places are always set aside for specials — prefixed with BOS and
/// followed by EOS when the GGUF metadata tokenizer.ggml.add_bos_token / add_eos_token say "true" (or are absent);
/// total_chunks = ⌈n_tokens / (n_ctx − specials added)⌉. This is not our <see cref="ChunkPlan"/>.
/// </summary>
internal sealed class PythonToolChunks : IChunkSource
{
    private readonly int[] _tokens;
    private readonly int _perChunk;
    private readonly int? _bos, _eos;

    public int ContextSize { get; }
    public int ChunkCount { get; }
    /// <summary>Where the token stream came from (the .npy cache or the re-tokenized dataset), for error messages.</summary>
    public string Source { get; }

    /// <param name="tokens">The tool's whole token stream (its added BOS/EOS included, see <see cref="Stream"/>).</param>
    /// <param name="bos">Put in front of every chunk (the metadata flag add_bos_token, default true), else null.</param>
    /// <param name="eos">Put after every chunk (add_eos_token, default true), else null.</param>
    public PythonToolChunks(int[] tokens, int contextSize, int? bos, int? eos, string source)
    {
        if (contextSize < 3) throw Common.GgufOptimizeException.BadInput($"Python-tool baseline: n_ctx {contextSize} is too small");
        _tokens = tokens;
        ContextSize = contextSize;
        _perChunk = contextSize - 2;
        _bos = bos;
        _eos = eos;
        Source = source;
        int specials = (bos.HasValue ? 1 : 0) + (eos.HasValue ? 1 : 0);
        ChunkCount = (int)((tokens.LongLength + (contextSize - specials) - 1) / (contextSize - specials));
    }

    /// <summary>The stream llama-cpp-python makes from the text tokens: the vocab's added BOS first, added EOS last.</summary>
    public static int[] Stream(int[] textTokens, int? addedBos, int? addedEos)
    {
        var tokens = new List<int>(textTokens.Length + 2);
        if (addedBos is { } b) tokens.Add(b);
        tokens.AddRange(textTokens);
        if (addedEos is { } e) tokens.Add(e);
        return tokens.ToArray();
    }

    public int[] Chunk(int index)
    {
        if ((uint)index >= (uint)ChunkCount) throw new ArgumentOutOfRangeException(nameof(index));
        long start = (long)index * _perChunk;
        int n = (int)Math.Max(0, Math.Min(_perChunk, _tokens.LongLength - start));
        var result = new List<int>(n + 2);
        if (_bos is { } b) result.Add(b);
        result.AddRange(_tokens.AsSpan((int)start, n));
        if (_eos is { } e) result.Add(e);
        return result.ToArray();
    }
}
