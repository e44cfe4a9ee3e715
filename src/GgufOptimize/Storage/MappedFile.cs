using System.IO.MemoryMappedFiles;
using GgufOptimize.Common;

namespace GgufOptimize.Storage;

/// <summary>
/// A whole file mapped read-only; slices come back as spans over the page cache, without copying (valid until
/// <see cref="Dispose"/>). The one memory map of the library: llama.cpp's .kld files read through it directly, HDF5
/// files through <see cref="Hdf5.Hdf5MappedReader"/>, which adds the dataset layout. Data written meanwhile through
/// another handle (e.g. <see cref="Hdf5.Hdf5DataWriter"/>) within the mapped length is visible: both share the page cache.
/// </summary>
internal sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    // Pointer arithmetic stays inside this class; the view handle is a SafeHandle released in Dispose.
    private readonly byte* _base;
    private bool _disposed;

    public string Path { get; }
    public long Length { get; }

    private MappedFile(string path, long length, MemoryMappedFile? map, MemoryMappedViewAccessor? view)
    {
        Path = path;
        Length = length;
        _map = map;
        _view = view;
        if (view is not null)
        {
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            _base = pointer + view.PointerOffset;
        }
    }

    /// <summary>Maps <paramref name="path"/> as it is now; <paramref name="what"/> prefixes the file in messages ("HDF5 file ").</summary>
    public static MappedFile Open(string path, string what = "")
    {
        try
        {
            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            long length = stream.Length;
            if (length == 0)
            {
                stream.Dispose();
                return new MappedFile(path, 0, null, null);
            }
            var map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            return new MappedFile(path, length, map, map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw GgufOptimizeException.BadInput($"{what}'{path}' cannot be opened for reading: {e.Message}");
        }
    }

    /// <summary><paramref name="count"/> values of <typeparamref name="T"/> starting at byte <paramref name="offset"/>.</summary>
    public ReadOnlySpan<T> Span<T>(long offset, int count) where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (offset < 0 || count < 0 || offset > Length - (long)count * sizeof(T))
            throw new ArgumentOutOfRangeException(nameof(offset), $"bytes [{offset}, {offset + (long)count * sizeof(T)}) are outside '{Path}' ({Length} bytes)");
        return new ReadOnlySpan<T>(_base + offset, count);
    }

    /// <summary>
    /// Drops the pages of bytes [offset, offset + length) from this process (Linux madvise MADV_DONTNEED; elsewhere
    /// nothing): they stay in the page cache and read back unchanged if touched again. A read-only map of a file
    /// larger than memory would otherwise keep every page it ever read in the process's resident set.
    /// </summary>
    public void Release(long offset, long length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!OperatingSystem.IsLinux() || _view is null || length <= 0) return;
        long start = Math.Clamp(offset, 0, Length), end = Math.Clamp(offset + length, 0, Length);
        if (end <= start) return;
        // madvise wants a page-aligned start (the view itself starts on a page); the kernel rounds the length up.
        nint from = (nint)(_base + start) & ~(nint)(Environment.SystemPageSize - 1), to = (nint)(_base + end);
        _ = Madvise((void*)from, (nuint)(to - from), MadvDontNeed);
    }

    private const int MadvDontNeed = 4;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static extern int Madvise(void* address, nuint length, int advice);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
    }
}
