using System.Runtime.InteropServices;

namespace GgufOptimize.Engine.Native;

/// <summary>
/// The few ggml entry points we call directly (libggml-base, the very file LLamaSharp loaded; see
/// <see cref="NativeRuntime"/>). All are plain C functions over pointers and integers.
/// </summary>
internal static unsafe class GgmlApi
{
    private const string Lib = NativeRuntime.GgmlBaseLibrary;

    [StructLayout(LayoutKind.Sequential)]
    internal struct InitParams
    {
        public nuint MemSize;
        public IntPtr MemBuffer;
        public byte NoAlloc;
    }

    [DllImport(Lib, CallingConvention = CallingConvention.Cdecl), SuppressGCTransition]
    internal static extern byte* ggml_op_name(int op);

    [DllImport(Lib, CallingConvention = CallingConvention.Cdecl), SuppressGCTransition]
    internal static extern byte* ggml_type_name(int type);

    [DllImport(Lib, CallingConvention = CallingConvention.Cdecl), SuppressGCTransition]
    internal static extern long ggml_blck_size(int type);

    [DllImport(Lib, CallingConvention = CallingConvention.Cdecl), SuppressGCTransition]
    internal static extern nuint ggml_type_size(int type);

    [DllImport(Lib, CallingConvention = CallingConvention.Cdecl), SuppressGCTransition]
    internal static extern byte ggml_quantize_requires_imatrix(int type);

    [DllImport(Lib, CallingConvention = CallingConvention.Cdecl), SuppressGCTransition]
    internal static extern nuint ggml_nbytes(GgmlTensor* tensor);

    [DllImport(Lib, CallingConvention = CallingConvention.Cdecl), SuppressGCTransition]
    internal static extern long ggml_nelements(GgmlTensor* tensor);

    [DllImport(Lib, CallingConvention = CallingConvention.Cdecl), SuppressGCTransition]
    internal static extern byte ggml_backend_buffer_is_host(IntPtr buffer);

    /// <summary>Copies tensor bytes out of any backend buffer (GPU memory included).</summary>
    [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
    internal static extern void ggml_backend_tensor_get(GgmlTensor* tensor, void* data, nuint offset, nuint size);

    // A small scratch context, used to check our view of ggml_tensor against ggml itself.
    [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
    internal static extern IntPtr ggml_init(InitParams parameters);

    [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
    internal static extern void ggml_free(IntPtr context);

    [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
    internal static extern GgmlTensor* ggml_new_tensor_4d(IntPtr context, int type, long ne0, long ne1, long ne2, long ne3);

    [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
    internal static extern GgmlTensor* ggml_set_name(GgmlTensor* tensor, byte* name);

    [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
    internal static extern byte* ggml_get_name(GgmlTensor* tensor);

    [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
    internal static extern void* ggml_get_data(GgmlTensor* tensor);

    [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
    internal static extern GgmlTensor* ggml_mul_mat(IntPtr context, GgmlTensor* a, GgmlTensor* b);

    internal static string Utf8(byte* text) => text == null ? "" : Marshal.PtrToStringUTF8((IntPtr)text) ?? "";
}
