namespace GgufOptimize.Quantization;

/// <summary>
/// A quantization as llama-quantize names it (Q4_K_M, IQ4_XS, COPY, ...): the llama_ftype it asks llama.cpp
/// for, which decides the type of every tensor through llama.cpp's mixture rules.
/// </summary>
/// <param name="Name">The canonical name, used in output file names.</param>
/// <param name="FileType">The llama_ftype id (llama.h at c0c7e147).</param>
/// <param name="OnlyCopy">COPY: tensors are copied unchanged.</param>
/// <param name="RefusedWithoutImatrix">llama-quantize refuses this type without an importance matrix.</param>
internal sealed record QuantizationType(string Name, int FileType, bool OnlyCopy = false, bool RefusedWithoutImatrix = false)
{
    public override string ToString() => Name;
}
