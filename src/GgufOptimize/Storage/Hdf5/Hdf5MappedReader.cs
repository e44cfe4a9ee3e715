using System.IO.MemoryMappedFiles;
using GgufOptimize.Common;

namespace GgufOptimize.Storage.Hdf5;

/// <summary>
/// Zero-copy read access to the contiguous datasets of a file: the whole file is memory-mapped read-only and
/// slices come back as spans over the page cache. Spans are valid only until <see cref="Dispose"/>. Data written
/// meanwhile through another handle (e.g. <see cref="Hdf5DataWriter"/>) is visible, as both share the page cache.
/// </summary>
internal sealed unsafe class Hdf5MappedReader : IDisposable
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    // Pointer arithmetic is confined to this class; the view handle is a SafeHandle released in Dispose.
    private readonly byte* _base;

    private Hdf5MappedReader(Hdf5Layout layout, MemoryMappedFile map, MemoryMappedViewAccessor view)
    {
        Layout = layout;
        _map = map;
        _view = view;
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _base = pointer + view.PointerOffset;
    }

    public Hdf5Layout Layout { get; }

    public static Hdf5MappedReader Open(string path) => Open(Hdf5ContiguousFile.Open(path));

    public static Hdf5MappedReader Open(Hdf5Layout layout)
    {
        MemoryMappedFile map;
        try
        {
            var stream = new FileStream(layout.FilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (stream.Length < layout.FileLength)
            {
                stream.Dispose();
                throw GgufOptimizeException.BadInput($"HDF5 file '{layout.FilePath}' shrank since its layout was read");
            }
            map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw GgufOptimizeException.BadInput($"HDF5 file '{layout.FilePath}' cannot be mapped for reading: {e.Message}");
        }
        var view = map.CreateViewAccessor(0, layout.FileLength, MemoryMappedFileAccess.Read);
        return new Hdf5MappedReader(layout, map, view);
    }

    /// <summary><paramref name="count"/> elements starting at flat element <paramref name="firstElement"/>.</summary>
    public ReadOnlySpan<T> Elements<T>(Hdf5DatasetInfo dataset, long firstElement, int count) where T : unmanaged
    {
        dataset.Type.RequireAccepts<T>(dataset.Path);
        dataset.CheckRange(firstElement, count);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new ReadOnlySpan<T>(_base + dataset.Offset + firstElement * dataset.ElementSize, count);
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
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new ReadOnlySpan<byte>(_base + dataset.Offset + byteOffset, length);
    }

    /// <summary>Copies elements out (convenient when the caller needs its own array).</summary>
    public void Read<T>(Hdf5DatasetInfo dataset, long firstElement, Span<T> destination) where T : unmanaged =>
        Elements<T>(dataset, firstElement, destination.Length).CopyTo(destination);

    private bool _disposed;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
