using GgufOptimize.Gguf;

namespace GgufOptimize.Quantization;

/// <summary>
/// A quantization as llama-quantize names it (Q4_K_M, IQ4_XS, COPY, ...): the llama_ftype it asks llama.cpp
/// for, which decides the type of every tensor through llama.cpp's mixture rules.
/// </summary>
/// <param name="Name">The canonical name, used in output file names.</param>
/// <param name="FileType">The llama_ftype id (llama.h at c0c7e147).</param>
/// <param name="BulkTensorType">The tensor type most weights get (llama.cpp's default type for the file type);
/// null for COPY.</param>
/// <param name="OnlyCopy">COPY: tensors are copied unchanged.</param>
internal sealed record QuantizationType(string Name, int FileType, GgmlType? BulkTensorType, bool OnlyCopy = false)
{
    public override string ToString() => Name;
}
