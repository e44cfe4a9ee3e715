using System.Runtime.InteropServices;

namespace GgufOptimize.Engine.Native;

/// <summary>
/// <c>llama_model_quantize</c> and its parameter structs, declared by us: LLamaSharp 0.30.0 has the
/// parameter struct but leaves the imatrix and tensor-type override entries undeclared.
/// Layouts follow include/llama.h at llama.cpp c0c7e147 (x86-64); <see cref="NativeLayout"/> checks
/// the parameter struct against the library at run time.
/// </summary>
internal static unsafe class LlamaQuantizeApi
{
    private const string Lib = NativeRuntime.LlamaLibrary;

    /// <summary><c>struct llama_model_quantize_params</c> (56 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct QuantizeParams
    {
        public int NThread;
        public int FileType;
        public int OutputTensorType;
        public int TokenEmbeddingType;
        public byte AllowRequantize;
        public byte QuantizeOutputTensor;
        public byte OnlyCopy;
        public byte Pure;
        public byte KeepSplit;
        public byte DryRun;
        public ImatrixData* Imatrix;
        public KvOverride* KvOverrides;
        public TensorTypeOverride* TensorTypes;
        public int* PruneLayers;
    }

    /// <summary><c>struct llama_model_imatrix_data</c>; an array of them ends with an all-null entry.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ImatrixData
    {
        public byte* Name;
        public float* Data;
        public nuint Size;
    }

    /// <summary><c>struct llama_model_tensor_override</c>; an array of them ends with a null pattern.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct TensorTypeOverride
    {
        public byte* Pattern;
        public int Type;
    }

    internal const int KvOverrideInt = 0;
    internal const int KvOverrideString = 3;
    internal const int KvOverrideTextBytes = 128;

    /// <summary><c>struct llama_model_kv_override</c>; an array of them ends with an empty key.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 264)]
    internal struct KvOverride
    {
        [FieldOffset(0)] public int Tag;
        [FieldOffset(4)] public fixed byte Key[KvOverrideTextBytes];
        [FieldOffset(136)] public long IntValue;
        [FieldOffset(136)] public fixed byte StringValue[KvOverrideTextBytes];
    }

    /// <summary>Returns 0 on success; on failure llama.cpp has logged why.</summary>
    [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
    internal static extern uint llama_model_quantize(byte* inputPath, byte* outputPath, QuantizeParams* parameters);

    [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
    internal static extern QuantizeParams llama_model_quantize_default_params();

    /// <summary>
    /// The same function seen through the x86-64 calling conventions: a struct this large is returned through a
    /// hidden pointer passed as the first argument, so this writes the defaults into a buffer we can inspect.
    /// </summary>
    [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, EntryPoint = "llama_model_quantize_default_params")]
    internal static extern void DefaultParamsInto(byte* result);
}
