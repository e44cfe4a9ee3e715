namespace GgufOptimize.Gguf;

/// <summary>
/// A tensor as described in a GGUF header. <see cref="Dimensions"/> are ggml's ne[] (ne0, the row length,
/// first); <see cref="Offset"/> is relative to the start of the data section.
/// </summary>
internal sealed record GgufTensorInfo(string Name, GgmlType Type, IReadOnlyList<long> Dimensions, long Offset)
{
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Dimensions) n = checked(n * d);
            return n;
        }
    }

    public long ByteSize => GgmlTypes.TensorBytes(Type, Dimensions.ToArray());

    /// <summary>Length of a row (ne0).</summary>
    public long RowLength => Dimensions.Count > 0 ? Dimensions[0] : 1;

    public long RowCount => RowLength == 0 ? 0 : ElementCount / RowLength;

    public string ShapeText => "[" + string.Join(", ", Dimensions) + "]";
}
