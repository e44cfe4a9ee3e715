using System.Text;
using GgufOptimize.Common;
using LLama.Native;

namespace GgufOptimize.Engine;

/// <summary>A GGUF model loaded into llama.cpp (CPU only, memory-mapped weights).</summary>
internal sealed class LlamaModel : IDisposable
{
    /// <summary>Layers offloaded to a GPU: none (the CPU backend only); recorded with results as an engine setting.</summary>
    internal const int GpuLayers = 0;

    internal SafeLlamaModelHandle Handle { get; }
    public string Path { get; }
    public int VocabSize { get; }
    public int TrainContext { get; }
    public int EmbeddingSize { get; }
    public int LayerCount { get; }
    /// <summary>Weights in the model (llama.cpp's count); roughly the multiply-adds one token costs.</summary>
    public long ParameterCount { get; }
    public bool AddBos { get; }
    public bool AddEos { get; }
    public int? Bos { get; }
    public int? Eos { get; }

    private LlamaModel(string path, SafeLlamaModelHandle handle)
    {
        Path = path;
        Handle = handle;
        var vocab = handle.Vocab;
        VocabSize = vocab.Count;
        TrainContext = handle.ContextSize;
        EmbeddingSize = handle.EmbeddingSize;
        LayerCount = handle.LayerCount;
        ParameterCount = (long)handle.ParameterCount;
        AddBos = vocab.ShouldAddBOS;
        AddEos = vocab.ShouldAddEOS;
        Bos = vocab.BOS is { } b ? (int)b : null;
        Eos = vocab.EOS is { } e ? (int)e : null;
    }

    /// <summary>Loads a model; a missing or unloadable file is reported as bad input naming the file.</summary>
    public static LlamaModel Load(string path)
    {
        NativeRuntime.Initialize();
        if (!File.Exists(path)) throw GgufOptimizeException.BadInput($"model file '{path}' does not exist");
        // llama.cpp crashes the process on some inconsistent headers (SIGFPE, abort) instead of failing the load.
        Gguf.GgufModelValidation.ReadChecked(path);
        var p = LLamaModelParams.Default();
        p.n_gpu_layers = GpuLayers;
        NativeRuntime.ClearNativeErrors();
        try
        {
            return new LlamaModel(path, SafeLlamaModelHandle.LoadFromFile(path, p));
        }
        catch (Exception e) when (e is LLama.Exceptions.LoadWeightsFailedException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            string why = NativeRuntime.LastNativeError();
            throw GgufOptimizeException.BadInput($"model file '{path}' could not be loaded by llama.cpp{(why.Length > 0 ? ": " + why : "")}");
        }
    }

    /// <summary>Tokenizes text as plain text (special-token syntax is not parsed), without BOS/EOS.</summary>
    public int[] Tokenize(string text)
    {
        var tokens = Handle.Tokenize(text, false, false, Encoding.UTF8);
        var result = new int[tokens.Length];
        for (int i = 0; i < tokens.Length; i++) result[i] = (int)tokens[i];
        return result;
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
    /// SHA-256 over every token's piece in id order: two models with equal fingerprints tokenize text identically,
    /// which is what comparing their logits position by position requires.
    /// </summary>
    public string TokenizerFingerprint()
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        Span<byte> separator = [0xFF, 0x00];
        for (int id = 0; id < VocabSize; id++)
        {
            hash.AppendData(TokenBytes(id));
            hash.AppendData(separator);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    public void Dispose() => Handle.Dispose();
}
