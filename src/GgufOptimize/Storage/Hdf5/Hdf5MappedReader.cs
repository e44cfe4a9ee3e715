using GgufOptimize.Common;

namespace GgufOptimize.Storage.Hdf5;

/// <summary>
/// Zero-copy read access to the contiguous datasets of an HDF5 file: its layout over a <see cref="MappedFile"/>.
/// Spans are valid only until <see cref="Dispose"/>. Data written meanwhile through another handle (e.g.
/// <see cref="Hdf5DataWriter"/>) is visible, as both share the page cache.
/// </summary>
internal sealed class Hdf5MappedReader : IDisposable
{
    private readonly MappedFile _file;

    private Hdf5MappedReader(Hdf5Layout layout, MappedFile file)
    {
        Layout = layout;
        _file = file;
    }

    public Hdf5Layout Layout { get; }

    public static Hdf5MappedReader Open(string path) => Open(Hdf5ContiguousFile.Open(path));

    public static Hdf5MappedReader Open(Hdf5Layout layout)
    {
        var file = MappedFile.Open(layout.FilePath, "HDF5 file ");
        if (file.Length < layout.FileLength)
        {
            file.Dispose();
            throw GgufOptimizeException.BadInput($"HDF5 file '{layout.FilePath}' shrank since its layout was read");
        }
        return new Hdf5MappedReader(layout, file);
    }

    /// <summary><paramref name="count"/> elements starting at flat element <paramref name="firstElement"/>.</summary>
    public ReadOnlySpan<T> Elements<T>(Hdf5DatasetInfo dataset, long firstElement, int count) where T : unmanaged
    {
        dataset.Type.RequireAccepts<T>(dataset.Path);
        dataset.CheckRange(firstElement, count);
        return _file.Span<T>(dataset.Offset + firstElement * dataset.ElementSize, count);
    }

    public ReadOnlySpan<T> Elements<T>(string datasetPath, long firstElement, int count) where T : unmanaged =>
        Elements<T>(Layout.Dataset(datasetPath), firstElement, count);

    /// <summary>Rows <paramref name="firstRow"/> .. firstRow+rowCount-1 (indices of the first dimension), contiguous.</summary>
    public ReadOnlySpan<T> Rows<T>(Hdf5DatasetInfo dataset, long firstRow, int rowCount) where T : unmanaged =>
        Elements<T>(dataset, checked(firstRow * dataset.RowElements), checked((int)(rowCount * dataset.RowElements)));

    /// <summary>The dataset's raw bytes in a byte range (use for datasets larger than 2 GiB elements in pieces).</summary>
    public ReadOnlySpan<byte> Bytes(Hdf5DatasetInfo dataset, long byteOffset, int length)
    {
        if (byteOffset < 0 || length < 0 || byteOffset > dataset.ByteLength - length)
            throw new ArgumentOutOfRangeException(nameof(byteOffset), $"bytes outside dataset {dataset.Path}");
        return _file.Span<byte>(dataset.Offset + byteOffset, length);
    }

    /// <summary>Drops the pages of <paramref name="count"/> elements from <paramref name="firstElement"/> from the process (see <see cref="MappedFile.Release"/>).</summary>
    public void Release(Hdf5DatasetInfo dataset, long firstElement, long count)
    {
        dataset.CheckRange(firstElement, 0);
        _file.Release(dataset.Offset + firstElement * dataset.ElementSize, count * dataset.ElementSize);
    }

    /// <summary>
    /// Copies elements out with a positional read of the file, not through the map: for rows read once into a reused
    /// buffer this is cheaper than faulting their pages in (see <see cref="MappedFile.Read{T}"/>).
    /// </summary>
    public void Read<T>(Hdf5DatasetInfo dataset, long firstElement, Span<T> destination) where T : unmanaged
    {
        dataset.Type.RequireAccepts<T>(dataset.Path);
        dataset.CheckRange(firstElement, destination.Length);
        _file.Read(dataset.Offset + firstElement * dataset.ElementSize, destination);
    }

    public void Dispose() => _file.Dispose();
}
