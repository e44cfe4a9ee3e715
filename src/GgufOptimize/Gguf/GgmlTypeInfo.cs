namespace GgufOptimize.Gguf;

/// <summary>
/// Storage layout of one ggml type: <see cref="BlockSize"/> consecutive elements of a row are stored
/// together in <see cref="TypeSize"/> bytes, so a row's length must be a multiple of the block size.
/// </summary>
internal sealed record GgmlTypeInfo(GgmlType Type, string Name, int BlockSize, int TypeSize, bool IsQuantized)
{
    /// <summary>Storage bits per element (e.g. 4.5 for Q4_0, 4.5 for Q4_K, 6.5625 for Q6_K).</summary>
    public double BitsPerWeight => TypeSize * 8.0 / BlockSize;

    /// <summary>Bytes taken by a row of <paramref name="elements"/> elements; the row must be whole blocks.</summary>
    public long RowSize(long elements)
    {
        if (elements % BlockSize != 0)
            throw new ArgumentException($"a {Name} row of {elements} elements is not a multiple of the block size {BlockSize}");
        return elements / BlockSize * TypeSize;
    }

    /// <summary>Whether a row of <paramref name="elements"/> elements can be stored in this type.</summary>
    public bool FitsRow(long elements) => elements % BlockSize == 0;
}
