using GgufOptimize.Common;
using Microsoft.Win32.SafeHandles;

namespace GgufOptimize.Storage.Hdf5.Format;

/// <summary>Bounds-checked positional reads of an HDF5 file's metadata, and the errors that name the file.</summary>
internal sealed class MetadataSource
{
    // No metadata structure of a sane file comes near this; a larger size means a corrupt length field.
    private const long MaxStructureSize = 1L << 30;

    private readonly SafeFileHandle _handle;

    public MetadataSource(SafeFileHandle handle, string filePath, long fileLength)
    {
        _handle = handle;
        FilePath = filePath;
        FileLength = fileLength;
    }

    public string FilePath { get; }
    public long FileLength { get; }
    public long BaseAddress { get; set; }
    public int OffsetSize { get; set; } = 8;
    public int LengthSize { get; set; } = 8;

    public GgufOptimizeException Corrupt(string detail) =>
        GgufOptimizeException.BadInput($"HDF5 file '{FilePath}' is corrupt or truncated: {OneLine(detail)}");

    public GgufOptimizeException Unsupported(string detail) =>
        GgufOptimizeException.BadInput($"HDF5 file '{FilePath}': {OneLine(detail)}");

    // Names read from a damaged file may hold control characters; the error must stay one printable line.
    private static string OneLine(string text) =>
        string.Concat(text.Select(ch => char.IsControl(ch) ? "?" : ch.ToString()));

    /// <summary>Turns a file address into an absolute position, rejecting undefined or out-of-file addresses.</summary>
    public long Position(ulong address, string what)
    {
        if (address == H5Constants.UndefinedAddress) throw Corrupt($"{what} has an undefined address");
        if (address >= (ulong)FileLength || (long)address + BaseAddress >= FileLength)
            throw Corrupt($"{what} at address {address} lies beyond the end of the file ({FileLength} bytes)");
        return (long)address + BaseAddress;
    }

    /// <summary>Reads <paramref name="count"/> bytes at absolute <paramref name="position"/>; short files are a Corrupt error.</summary>
    public byte[] Read(long position, long count, string what)
    {
        if (count < 0 || count > MaxStructureSize)
            throw Corrupt($"{what} at offset {position} claims an implausible size of {count} bytes");
        if (position < 0 || position > FileLength - count)
            throw Corrupt($"{what} at offset {position} (+{count} bytes) extends past the end of the file ({FileLength} bytes)");
        var buffer = new byte[count];
        int done = 0;
        while (done < count)
        {
            int n = RandomAccess.Read(_handle, buffer.AsSpan(done), position + done);
            if (n == 0) throw Corrupt($"{what} at offset {position} could not be read completely");
            done += n;
        }
        return buffer;
    }

    /// <summary>Reads up to <paramref name="count"/> bytes, fewer at the end of the file.</summary>
    public byte[] ReadAtMost(long position, int count, string what) =>
        Read(position, Math.Max(0, Math.Min(count, FileLength - position)), what);

    public ByteCursor Cursor(long position, long count, string what) => new(Read(position, count, what), this, what);

    public ByteCursor Cursor(byte[] data, string what) => new(data, this, what);
}
