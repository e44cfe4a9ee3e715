using System.Runtime.InteropServices;
using GgufOptimize.Common;

namespace GgufOptimize.Engine.Native;

/// <summary>
/// Checks, once per process, that the structs we declare by hand match the loaded llama.cpp: a mismatch
/// would otherwise corrupt memory silently.
/// </summary>
internal static unsafe class NativeLayout
{
    private static readonly Lazy<int> TypeCount = new(CheckQuantizeParams);
    private static readonly Lazy<bool> Tensor = new(CheckTensor);

    /// <summary>GGML_TYPE_COUNT of the loaded library (llama.cpp's "no type" marker).</summary>
    public static int GgmlTypeCount => TypeCount.Value;

    public static void VerifyQuantizeParams() => _ = TypeCount.Value;

    public static void VerifyTensor() => _ = Tensor.Value;

    private static int CheckQuantizeParams()
    {
        NativeRuntime.Initialize();
        if (sizeof(LlamaQuantizeApi.QuantizeParams) != 56 || sizeof(LlamaQuantizeApi.KvOverride) != 264)
            throw Mismatch("llama_model_quantize_params", "declared size");
        LlamaQuantizeApi.QuantizeParams p;
        if (RuntimeInformation.ProcessArchitecture == Architecture.X64)
        {
            const int probe = 256;
            byte* buffer = stackalloc byte[probe];
            new Span<byte>(buffer, probe).Fill(0xCD);
            LlamaQuantizeApi.DefaultParamsInto(buffer);
            if (new ReadOnlySpan<byte>(buffer + 56, probe - 56).ContainsAnyExcept((byte)0xCD))
                throw Mismatch("llama_model_quantize_params", "the library's struct is larger than 56 bytes");
            p = *(LlamaQuantizeApi.QuantizeParams*)buffer;
        }
        else
        {
            p = LlamaQuantizeApi.llama_model_quantize_default_params();
        }
        // llama.cpp's defaults: Q8_0, no type overrides (GGML_TYPE_COUNT), quantize output.weight, nothing else set.
        bool ok = p.NThread == 0 && p.FileType == 7 && p.OutputTensorType == p.TokenEmbeddingType && p.OutputTensorType > 30
                  && p.AllowRequantize == 0 && p.QuantizeOutputTensor == 1 && p.OnlyCopy == 0 && p.Pure == 0 && p.KeepSplit == 0
                  && p.DryRun == 0 && p.Imatrix == null && p.KvOverrides == null && p.TensorTypes == null && p.PruneLayers == null;
        if (!ok) throw Mismatch("llama_model_quantize_params", "its default values are not where we expect them");
        return p.OutputTensorType;
    }

    private static bool CheckTensor()
    {
        NativeRuntime.Initialize();
        var context = GgmlApi.ggml_init(new GgmlApi.InitParams { MemSize = 1 << 16, MemBuffer = IntPtr.Zero, NoAlloc = 0 });
        if (context == IntPtr.Zero) throw GgufOptimizeException.Runtime("ggml_init failed");
        try
        {
            var a = GgmlApi.ggml_new_tensor_4d(context, 0, 6, 5, 1, 1);
            var b = GgmlApi.ggml_new_tensor_4d(context, 0, 6, 3, 2, 1);
            fixed (byte* name = "blk.7.probe.weight\0"u8) GgmlApi.ggml_set_name(a, name);
            var product = GgmlApi.ggml_mul_mat(context, a, b);
            bool ok = a->Type == 0 && a->Ne[0] == 6 && a->Ne[1] == 5 && b->Ne[2] == 2
                      && b->Nb[0] == 4 && b->Nb[1] == 24 && b->Nb[2] == 72
                      && (long)GgmlApi.ggml_nbytes(b) == 144 && GgmlApi.ggml_nelements(b) == 36
                      && a->Data == GgmlApi.ggml_get_data(a)
                      && GgmlApi.ggml_get_name(a) == a->Name
                      && a->WeightName() == "blk.7.probe.weight"
                      && product->Source(0) == a && product->Source(1) == b
                      && GgmlApi.Utf8(GgmlApi.ggml_op_name(product->Op)) == "MUL_MAT";
            if (!ok) throw Mismatch("ggml_tensor", "field offsets differ");
            return true;
        }
        finally
        {
            GgmlApi.ggml_free(context);
        }
    }

    private static GgufOptimizeException Mismatch(string what, string detail) =>
        GgufOptimizeException.Runtime($"the loaded llama.cpp does not match our declaration of {what} ({detail}); this build of gguf-optimize needs LLamaSharp 0.30.0's llama.cpp");
}
