using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Engine;

namespace GgufOptimize.Storage.Formats.PythonTool;

/// <summary>
/// The chunks generate_logits.py evaluated, rebuilt from the dataset (its files store no tokens). Its rule, read from
/// its source: the text is tokenized once by llama-cpp-python with special tokens added (BOS in front when the vocab
/// adds BOS, EOS at the end when it adds EOS), or taken from DATASET.tokens.npy when that cache exists; chunk c holds
/// tokens [c·(n_ctx−2), (c+1)·(n_ctx−2)) — two places are always set aside for specials — prefixed with BOS and
/// followed by EOS when the GGUF metadata tokenizer.ggml.add_bos_token / add_eos_token say "true" (or are absent);
/// total_chunks = ⌈n_tokens / (n_ctx − specials added)⌉. This is not our <see cref="Chunking.ChunkPlan"/>.
/// </summary>
public sealed class PythonToolChunks
{
    private readonly int[] _tokens;
    private readonly int _perChunk;
    private readonly int? _bos, _eos;

    public int ContextSize { get; }
    public int ChunkCount { get; }
    public string Source { get; }

    private PythonToolChunks(int[] tokens, int contextSize, int? bos, int? eos, string source)
    {
        _tokens = tokens;
        ContextSize = contextSize;
        _perChunk = contextSize - 2;
        _bos = bos;
        _eos = eos;
        Source = source;
        int specials = (bos.HasValue ? 1 : 0) + (eos.HasValue ? 1 : 0);
        ChunkCount = (int)((tokens.LongLength + (contextSize - specials) - 1) / (contextSize - specials));
    }

    public static PythonToolChunks For(LlamaModel model, string datasetPath, int contextSize)
    {
        if (contextSize < 3) throw GgufOptimizeException.BadInput($"Python-tool baseline: n_ctx {contextSize} is too small");
        bool requireBos = Flag(model.MetadataString("tokenizer.ggml.add_bos_token"));
        bool requireEos = Flag(model.MetadataString("tokenizer.ggml.add_eos_token"));
        int? bos = requireBos ? model.Bos : null;
        int? eos = requireEos ? model.Eos : null;
        string cache = datasetPath + ".tokens.npy";
        if (File.Exists(cache)) return new PythonToolChunks(NpyTokens.Read(cache), contextSize, bos, eos, Path.GetFileName(cache));

        var corpus = TextCorpus.Load(datasetPath);
        var text = model.Tokenize(corpus.Text);
        var tokens = new List<int>(text.Length + 2);
        if (model.AddBos && model.Bos is { } b) tokens.Add(b);
        tokens.AddRange(text);
        if (model.AddEos && model.Eos is { } e) tokens.Add(e);
        return new PythonToolChunks(tokens.ToArray(), contextSize, bos, eos, $"'{Path.GetFileName(datasetPath)}' re-tokenized");
    }

    public int[] Chunk(int chunk)
    {
        if ((uint)chunk >= (uint)ChunkCount) throw new ArgumentOutOfRangeException(nameof(chunk));
        long start = (long)chunk * _perChunk;
        int n = (int)Math.Max(0, Math.Min(_perChunk, _tokens.LongLength - start));
        var result = new List<int>(n + 2);
        if (_bos is { } b) result.Add(b);
        result.AddRange(_tokens.AsSpan((int)start, n));
        if (_eos is { } e) result.Add(e);
        return result.ToArray();
    }

    private static bool Flag(string? value) => value is null || !value.Equals("false", StringComparison.OrdinalIgnoreCase);
}
