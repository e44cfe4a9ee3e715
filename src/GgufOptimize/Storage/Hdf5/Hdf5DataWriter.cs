using System.Runtime.InteropServices;
using GgufOptimize.Common;

namespace GgufOptimize.Storage.Hdf5;

/// <summary>
/// Positional writes into the contiguous datasets of a file made by <see cref="Hdf5ContiguousFile.Create"/>.
/// Writes go straight to the OS (no managed buffering), may come in any order, and may run in parallel from
/// several threads on disjoint ranges. Metadata is never touched, so the file stays valid HDF5 throughout.
/// </summary>
internal sealed class Hdf5DataWriter : IDisposable
{
    private readonly FileStream _stream;
    /// <summary>Large writes skip the page cache where the file system allows (see <see cref="DirectWrites"/>).</summary>
    private readonly DirectWrites? _direct;
    private readonly DirectWrites.WriteAction _normal;

    private Hdf5DataWriter(Hdf5Layout layout, FileStream stream)
    {
        Layout = layout;
        _stream = stream;
        _normal = WriteNormal;
        _direct = DirectWrites.TryOpen(layout.FilePath);
    }

    /// <summary>Whether large writes currently bypass the page cache.</summary>
    internal bool WritesDirectly => _direct is { Enabled: true };

    public Hdf5Layout Layout { get; }

    /// <summary>Opens an existing file for writing its datasets (its layout is read first).</summary>
    public static Hdf5DataWriter Open(string path) => Open(Hdf5ContiguousFile.Open(path));

    public static Hdf5DataWriter Open(Hdf5Layout layout)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(layout.FilePath, new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.ReadWrite,
                Share = FileShare.ReadWrite,
                BufferSize = 0,
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw GgufOptimizeException.BadInput($"HDF5 file '{layout.FilePath}' cannot be opened for writing: {e.Message}");
        }
        long length = stream.Length;
        if (length != layout.FileLength)
        {
            stream.Dispose();
            throw GgufOptimizeException.BadInput(
                $"HDF5 file '{layout.FilePath}' changed size since its layout was read ({layout.FileLength} → {length} bytes)");
        }
        return new Hdf5DataWriter(layout, stream);
    }

    /// <summary>Writes <paramref name="values"/> starting at flat element <paramref name="firstElement"/> of the dataset.</summary>
    public void Write<T>(Hdf5DatasetInfo dataset, long firstElement, ReadOnlySpan<T> values) where T : unmanaged
    {
        dataset.Type.RequireAccepts<T>(dataset.Path);
        dataset.CheckRange(firstElement, values.Length);
        WriteAt(dataset.Offset + firstElement * dataset.ElementSize, MemoryMarshal.AsBytes(values));
    }

    public void Write<T>(string datasetPath, long firstElement, ReadOnlySpan<T> values) where T : unmanaged =>
        Write(Layout.Dataset(datasetPath), firstElement, values);

    /// <summary>Writes whole rows (indices of the first dimension) starting at <paramref name="firstRow"/>.</summary>
    public void WriteRows<T>(Hdf5DatasetInfo dataset, long firstRow, ReadOnlySpan<T> rows) where T : unmanaged
    {
        if (dataset.RowElements == 0 || rows.Length % dataset.RowElements != 0)
            throw new ArgumentException($"{rows.Length} elements are not whole rows of {dataset.Path} ({dataset.RowElements} per row)");
        Write(dataset, checked(firstRow * dataset.RowElements), rows);
    }

    /// <summary>Raw bytes at a byte offset inside the dataset (for callers that already hold encoded elements).</summary>
    public void WriteBytes(Hdf5DatasetInfo dataset, long byteOffset, ReadOnlySpan<byte> bytes)
    {
        if (byteOffset < 0 || byteOffset > dataset.ByteLength - bytes.Length)
            throw new ArgumentOutOfRangeException(nameof(byteOffset),
                $"bytes [{byteOffset}, {byteOffset + bytes.Length}) are outside dataset {dataset.Path} ({dataset.ByteLength} bytes)");
        WriteAt(dataset.Offset + byteOffset, bytes);
    }

    /// <summary>
    /// Raw bytes from a pinned buffer at a byte offset inside the dataset; when they sit in phase with their file
    /// position (<see cref="PinnedBuffer.StartFor"/>), large writes go to the disk without a staging copy.
    /// </summary>
    public void WriteBytes(Hdf5DatasetInfo dataset, long byteOffset, PinnedBuffer source, int start, int length)
    {
        if (byteOffset < 0 || byteOffset > dataset.ByteLength - length)
            throw new ArgumentOutOfRangeException(nameof(byteOffset),
                $"bytes [{byteOffset}, {byteOffset + length}) are outside dataset {dataset.Path} ({dataset.ByteLength} bytes)");
        if (_direct is not null) _direct.Write(dataset.Offset + byteOffset, source, start, length, _normal);
        else WriteNormal(dataset.Offset + byteOffset, source.Span(start, length));
    }

    /// <summary>
    /// Forces written data to the disk (fsync). Call before recording that a piece of work is done (e.g. a
    /// processed-chunk flag), so a crash never leaves a flag set over data that was lost.
    /// </summary>
    public void Flush()
    {
        try { FileStep.Sync(_stream); }
        catch (IOException e) { throw GgufOptimizeException.Runtime($"cannot flush HDF5 file '{Layout.FilePath}': {e.Message}", e); }
    }

    public void Dispose()
    {
        _direct?.Dispose();
        _stream.Dispose();
    }

    private void WriteAt(long position, ReadOnlySpan<byte> bytes)
    {
        if (_direct is not null) _direct.Write(position, bytes, _normal);
        else WriteNormal(position, bytes);
    }

    private void WriteNormal(long position, ReadOnlySpan<byte> bytes)
    {
        try { RandomAccess.Write(_stream.SafeFileHandle, bytes, position); }
        catch (IOException e) { throw GgufOptimizeException.Runtime($"cannot write HDF5 file '{Layout.FilePath}': {e.Message}", e); }
    }
}
