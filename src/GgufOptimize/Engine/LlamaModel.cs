using System.Buffers;
using System.Text;
using GgufOptimize.Common;
using LLama.Native;

namespace GgufOptimize.Engine;

/// <summary>A GGUF model loaded into llama.cpp with given <see cref="EngineSettings"/>.</summary>
internal sealed class LlamaModel : IDisposable
{
    internal SafeLlamaModelHandle Handle { get; }
    public string Path { get; }
    /// <summary>The engine settings the model was loaded with; its contexts use the same (one source per model).</summary>
    public EngineSettings Settings { get; }
    public int VocabSize { get; }
    /// <summary>The GGUF's training context, or the one <see cref="EngineSettings.TrainContext"/> states instead (--hf-model-config).</summary>
    public int TrainContext { get; }
    public int EmbeddingSize { get; }
    public int LayerCount { get; }
    /// <summary>Weights in the model (llama.cpp's count); roughly the multiply-adds one token costs.</summary>
    public long ParameterCount { get; }
    public bool AddBos { get; }
    public bool AddEos { get; }
    public int? Bos { get; }
    public int? Eos { get; }

    private LlamaModel(string path, SafeLlamaModelHandle handle, EngineSettings settings)
    {
        Path = path;
        Settings = settings;
        Handle = handle;
        var vocab = handle.Vocab;
        VocabSize = vocab.Count;
        TrainContext = settings.TrainContext > 0 ? (int)Math.Min(settings.TrainContext, int.MaxValue) : handle.ContextSize;
        EmbeddingSize = handle.EmbeddingSize;
        LayerCount = handle.LayerCount;
        ParameterCount = (long)handle.ParameterCount;
        AddBos = vocab.ShouldAddBOS;
        AddEos = vocab.ShouldAddEOS;
        Bos = vocab.BOS is { } b ? (int)b : null;
        Eos = vocab.EOS is { } e ? (int)e : null;
    }

    /// <summary>
    /// Loads a model with <paramref name="settings"/> (llama.cpp's defaults when null); a missing or unloadable file
    /// is reported as bad input naming the file. <paramref name="vocabOnly"/> loads the tokenizer alone (no weights).
    /// </summary>
    public static LlamaModel Load(string path, EngineSettings? settings = null, bool vocabOnly = false)
    {
        NativeRuntime.Initialize();
        settings ??= EngineSettings.Default;
        if (!File.Exists(path)) throw GgufOptimizeException.BadInput($"model file '{path}' does not exist");
        // llama.cpp crashes the process on some inconsistent headers (SIGFPE, abort) instead of failing the load;
        // it also loads a split model from its first shard (and finds the rest by name), so the shards are checked
        // here first and a missing or foreign one is named rather than reported as a failed load.
        string load = Gguf.GgufModelValidation.ReadChecked(path).Path;
        var p = EngineParams.Model(settings, vocabOnly);
        float[]? split = EngineParams.TensorSplit(settings);
        NativeRuntime.ClearNativeErrors();
        try
        {
            unsafe
            {
                // llama.cpp reads tensor_split only while loading, so pinning it for the call is enough.
                fixed (float* ts = split)
                {
                    p.tensor_split = ts;
                    return new LlamaModel(path, SafeLlamaModelHandle.LoadFromFile(load, p), settings);
                }
            }
        }
        catch (Exception e) when (e is LLama.Exceptions.LoadWeightsFailedException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            string why = NativeRuntime.LastNativeError();
            throw GgufOptimizeException.BadInput($"model file '{path}' could not be loaded by llama.cpp{(why.Length > 0 ? ": " + why : "")}");
        }
    }

    /// <summary>Tokenizes text as plain text (special-token syntax is not parsed), without BOS/EOS.</summary>
    public int[] Tokenize(string text) => Tokenize(text, NullProgress.Instance);

    /// <summary>
    /// Tokenizes text in pieces of about <see cref="TextPieces.PieceChars"/> characters (see <see cref="TextPieces"/>),
    /// reporting progress in characters: llama.cpp's tokenizers need tens of bytes per character of one call's text,
    /// so a 50 MB line in one call took gigabytes and minutes without a sign of life.
    /// </summary>
    public int[] Tokenize(string text, IProgressSink progress) => TextPieces.Tokenize(text, TokenizeWhole, progress);

    /// <summary>
    /// One call of llama.cpp's tokenizer into a buffer of one token per byte plus two (a byte-fallback vocabulary
    /// needs at most one per byte; SentencePiece adds a leading space), and a second only if llama.cpp asks for more.
    /// </summary>
    private unsafe int[] TokenizeWhole(string text)
    {
        if (text.Length == 0) return [];
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        var tokens = new int[bytes.Length + 2];
        IntPtr vocab = Native.LlamaVocabApi.llama_model_get_vocab(Handle);
        int n;
        fixed (byte* b = bytes)
        {
            fixed (int* t = tokens) n = Native.LlamaVocabApi.llama_tokenize(vocab, b, bytes.Length, t, tokens.Length, false, false);
            if (n < 0)
            {
                tokens = new int[-n];
                fixed (int* t = tokens) n = Native.LlamaVocabApi.llama_tokenize(vocab, b, bytes.Length, t, tokens.Length, false, false);
            }
        }
        if (n < 0) throw GgufOptimizeException.Runtime($"llama_tokenize failed ({n}) on a text of {bytes.Length:N0} bytes");
        return n == tokens.Length ? tokens : tokens[..n];
    }

    /// <summary>The UTF-8 bytes of one token's piece, for detokenizing generated text.</summary>
    public byte[] TokenBytes(int token)
    {
        Span<byte> buffer = stackalloc byte[256];
        uint n = Handle.TokenToSpan(token, buffer, 0, false);
        if (n > buffer.Length)
        {
            var big = new byte[n];
            Handle.TokenToSpan(token, big, 0, false);
            return big;
        }
        return buffer[..(int)n].ToArray();
    }

    /// <summary>
    /// SHA-256 over every token's piece in id order, each followed by the bytes FF 00: two models with equal
    /// fingerprints tokenize text identically, which is what comparing their logits position by position requires.
    /// The pieces are gathered into one buffer and hashed in one call (hashing them one by one cost two calls into
    /// the crypto library and an array per token, a visible share of start-up with a 32k vocabulary).
    /// </summary>
    public string TokenizerFingerprint()
    {
        var all = new ArrayBufferWriter<byte>(VocabSize * 8 + 64);
        ReadOnlySpan<byte> separator = [0xFF, 0x00];
        Span<byte> piece = stackalloc byte[256];
        for (int id = 0; id < VocabSize; id++)
        {
            uint n = Handle.TokenToSpan(id, piece, 0, false);
            if (n <= piece.Length) all.Write(piece[..(int)n]);
            else all.Write(TokenBytes(id));
            all.Write(separator);
        }
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(all.WrittenSpan));
    }

    public void Dispose() => Handle.Dispose();
}
