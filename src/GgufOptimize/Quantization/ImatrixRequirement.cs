using GgufOptimize.Engine;
using GgufOptimize.Gguf;

namespace GgufOptimize.Quantization;

/// <summary>
/// The one answer to "does this need an importance matrix?", per tensor and per file type. ggml is asked about
/// tensor types; what llama.cpp adds on top of ggml is listed here with where it comes from (llama.cpp c0c7e147).
/// </summary>
internal static class ImatrixRequirement
{
    /// <summary>
    /// Tensor types llama.cpp's quantizer refuses to make without imatrix data although ggml itself does not assert on
    /// them: src/llama-quant.cpp, <c>tensor_requires_imatrix</c>, lists IQ3_XXS, IQ2_S and IQ1_M next to ggml's own
    /// (<c>ggml_quantize_requires_imatrix</c> in ggml/src/ggml.c: IQ2_XXS, IQ2_XS, IQ1_S).
    /// </summary>
    private static readonly GgmlType[] AddedByLlamaCpp = [GgmlType.IQ3_XXS, GgmlType.IQ2_S, GgmlType.IQ1_M];

    /// <summary>
    /// File types llama-quantize refuses up front without an imatrix although their bulk tensor type is not one ggml
    /// asserts on, because of their mix (tools/quantize/quantize.cpp): Q2_K_S, whose Q2_K tensors need imatrix data in
    /// this file type only (the Q2_K case of <c>tensor_requires_imatrix</c>), and IQ1_M, made of IQ1_M tensors, which
    /// llama.cpp (not ggml) refuses. IQ2_M and IQ3_XXS are not refused up front; their tensors are checked one by one.
    /// </summary>
    private static readonly string[] RefusedForTheirMix = ["Q2_K_S", "IQ1_M"];

    /// <summary>Tensors llama.cpp quantizes without imatrix data whatever their type (it never collects data for them).</summary>
    private static readonly string[] Exempt = ["token_embd.weight", "per_layer_token_embd.weight", "output.weight"];

    /// <summary>Whether llama.cpp refuses to write a tensor of ggml type <paramref name="ggmlType"/> (id) without imatrix data.</summary>
    public static bool ForTensorType(int ggmlType) =>
        NativeQuantizer.RequiresImatrix(ggmlType) || AddedByLlamaCpp.Contains((GgmlType)ggmlType);

    /// <summary>
    /// Whether llama.cpp needs imatrix data for tensor <paramref name="tensorName"/> when a <paramref name="file"/>
    /// quantization makes it ggml type <paramref name="ggmlType"/>.
    /// </summary>
    public static bool ForTensor(string tensorName, int ggmlType, QuantizationType file)
    {
        if (Exempt.Contains(tensorName, StringComparer.Ordinal)) return false;
        return ForTensorType(ggmlType) || ((GgmlType)ggmlType == GgmlType.Q2_K && file.Name == "Q2_K_S");
    }

    /// <summary>
    /// Whether llama-quantize refuses the whole file type without an imatrix before looking at tensors: its bulk
    /// tensor type is one ggml asserts on, or its mix needs one (<see cref="RefusedForTheirMix"/>).
    /// </summary>
    public static bool ForFileType(QuantizationType file) =>
        (file.BulkTensorType is { } bulk && NativeQuantizer.RequiresImatrix((int)bulk)) || RefusedForTheirMix.Contains(file.Name);
}
