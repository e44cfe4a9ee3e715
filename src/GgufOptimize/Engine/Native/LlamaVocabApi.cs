using System.Runtime.InteropServices;
using LLama.Native;

namespace GgufOptimize.Engine.Native;

/// <summary>
/// The vocabulary entry points we call directly. LLamaSharp 0.30.0's <c>Tokenize</c> runs llama.cpp's tokenizer twice
/// per call (once to count, once to fill an array of that size), which doubled the tokenizing of every dataset; its
/// token-to-piece wrapper is fine. Signatures follow include/llama.h at llama.cpp c0c7e147.
/// </summary>
internal static unsafe class LlamaVocabApi
{
    private const string Lib = NativeRuntime.LlamaLibrary;

    /// <summary><c>const struct llama_vocab * llama_model_get_vocab(const struct llama_model * model)</c>.</summary>
    [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
    internal static extern IntPtr llama_model_get_vocab(SafeLlamaModelHandle model);

    /// <summary>
    /// <c>int32_t llama_tokenize(vocab, text, text_len, tokens, n_tokens_max, add_special, parse_special)</c>: the
    /// number of tokens written, or minus the number needed when <c>n_tokens_max</c> is too small (nothing useful written).
    /// </summary>
    [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
    internal static extern int llama_tokenize(IntPtr vocab, byte* text, int textLength, int* tokens, int maxTokens,
        [MarshalAs(UnmanagedType.U1)] bool addSpecial, [MarshalAs(UnmanagedType.U1)] bool parseSpecial);
}
