using GgufOptimize.Common;

namespace GgufOptimize.Storage.Hdf5;

/// <summary>
/// A group or dataset found in a file, with its attributes. Attribute values are string, long, double, bool,
/// or arrays of those (string[], long[], double[], bool[]); other integer and float widths are widened.
/// </summary>
internal abstract class Hdf5ObjectInfo
{
    private protected Hdf5ObjectInfo(string filePath, string path, IReadOnlyDictionary<string, object> attributes)
    {
        FilePath = filePath;
        Path = path;
        Attributes = attributes;
    }

    public string FilePath { get; }

    /// <summary>Absolute path inside the file, e.g. "/" or "/logits".</summary>
    public string Path { get; }

    public IReadOnlyDictionary<string, object> Attributes { get; }

    /// <summary>The attribute's value; a missing attribute or another type is a BadInput error naming the file.</summary>
    public T Attribute<T>(string name)
    {
        if (!Attributes.TryGetValue(name, out var value))
            throw GgufOptimizeException.BadInput($"HDF5 file '{FilePath}': {Path} has no attribute '{name}'");
        if (value is T typed) return typed;
        throw GgufOptimizeException.BadInput(
            $"HDF5 file '{FilePath}': attribute '{name}' of {Path} is {value.GetType().Name}, expected {typeof(T).Name}");
    }

    public bool TryGetAttribute<T>(string name, out T value)
    {
        if (Attributes.TryGetValue(name, out var raw) && raw is T typed)
        {
            value = typed;
            return true;
        }
        value = default!;
        return false;
    }
}

internal sealed class Hdf5GroupInfo : Hdf5ObjectInfo
{
    internal Hdf5GroupInfo(string filePath, string path, IReadOnlyDictionary<string, object> attributes, IReadOnlyList<string> members)
        : base(filePath, path, attributes) => Members = members;

    /// <summary>Names of the hard-linked members, in link order.</summary>
    public IReadOnlyList<string> Members { get; }
}

/// <summary>A contiguous dataset: its bytes are <see cref="ByteLength"/> bytes at file offset <see cref="Offset"/>, row-major, little-endian.</summary>
internal sealed class Hdf5DatasetInfo : Hdf5ObjectInfo
{
    private readonly long[] _shape;

    internal Hdf5DatasetInfo(string filePath, string path, IReadOnlyDictionary<string, object> attributes,
        H5ElementType type, long[] shape, long offset)
        : base(filePath, path, attributes)
    {
        Type = type;
        _shape = shape;
        Offset = offset;
        ElementCount = shape.Aggregate(1L, (a, d) => checked(a * d));
        ByteLength = ElementCount * type.Size();
        RowElements = shape.Skip(1).Aggregate(1L, (a, d) => checked(a * d));
    }

    public H5ElementType Type { get; }
    public IReadOnlyList<long> Shape => _shape;
    public long Offset { get; }
    public long ByteLength { get; }
    public long ElementCount { get; }
    public int ElementSize => Type.Size();

    /// <summary>Elements per index of the first dimension (1 for one-dimensional and scalar datasets).</summary>
    public long RowElements { get; }

    /// <summary>Length of the first dimension (1 for a scalar).</summary>
    public long Rows => _shape.Length == 0 ? 1 : _shape[0];

    /// <summary>Row-major flat element index of a full or leading partial index (missing trailing indices are 0).</summary>
    public long ElementIndex(params long[] index)
    {
        if (index.Length > _shape.Length)
            throw new ArgumentException($"dataset {Path} has {_shape.Length} dimensions, got {index.Length} indices");
        long flat = 0;
        for (int d = 0; d < _shape.Length; d++)
        {
            long i = d < index.Length ? index[d] : 0;
            if (i < 0 || i >= _shape[d])
                throw new ArgumentOutOfRangeException(nameof(index), $"index {i} outside dimension {d} (size {_shape[d]}) of {Path}");
            flat = flat * _shape[d] + i;
        }
        return flat;
    }

    internal void CheckRange(long firstElement, long count)
    {
        if (firstElement < 0 || count < 0 || firstElement > ElementCount - count)
            throw new ArgumentOutOfRangeException(nameof(firstElement),
                $"elements [{firstElement}, {firstElement + count}) are outside dataset {Path} ({ElementCount} elements)");
    }
}
