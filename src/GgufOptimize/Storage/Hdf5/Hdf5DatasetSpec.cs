using System.Runtime.InteropServices;

namespace GgufOptimize.Storage.Hdf5;

/// <summary>A contiguous dataset of a file being described; its bytes are zero until written (or set here for small ones).</summary>
internal sealed class Hdf5DatasetSpec : Hdf5ObjectSpec
{
    private readonly long[] _shape;
    private byte[]? _initialData;

    internal Hdf5DatasetSpec(string name, string path, H5ElementType type, long[] shape) : base(name, path)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length > 32) throw new ArgumentException($"dataset {path}: HDF5 allows at most 32 dimensions");
        long count = 1;
        foreach (long dim in shape)
        {
            if (dim < 0) throw new ArgumentException($"dataset {path}: negative dimension {dim}");
            count = checked(count * dim);
        }
        Type = type;
        _shape = (long[])shape.Clone();
        ElementCount = count;
        ByteLength = checked(count * type.Size());
    }

    public H5ElementType Type { get; }
    public IReadOnlyList<long> Shape => _shape;
    public long ElementCount { get; }
    public long ByteLength { get; }

    /// <summary>Bytes written at creation time, if any (exactly <see cref="ByteLength"/> long).</summary>
    public ReadOnlyMemory<byte>? InitialData => _initialData;

    /// <summary>Content written when the file is created; meant for small datasets (indexes, flags).</summary>
    public void SetInitialData<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        Type.RequireAccepts<T>(Path);
        if (values.Length != ElementCount)
            throw new ArgumentException($"dataset {Path}: initial data has {values.Length} elements, the shape needs {ElementCount}");
        _initialData = MemoryMarshal.AsBytes(values).ToArray();
    }

    public void SetInitialData<T>(T[] values) where T : unmanaged => SetInitialData((ReadOnlySpan<T>)values);
}
