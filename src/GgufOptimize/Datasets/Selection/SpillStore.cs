using System.Text;

namespace GgufOptimize.Datasets.Selection;

/// <summary>
/// An append-only scratch file holding the UTF-8 text of candidate samples, so the selection keeps only offsets in
/// memory. It lives next to the output (same disk the user chose). On Unix its name is removed right after it is
/// opened, so even kill -9 leaves nothing behind; on Windows the system deletes it when the handle closes.
/// </summary>
internal sealed class SpillStore : IDisposable
{
    private readonly FileStream _stream;
    private bool _dirty;

    public SpillStore(string directory)
    {
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, $".gguf-optimize-spill-{Guid.NewGuid():N}.tmp");
        _stream = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
        if (!OperatingSystem.IsWindows()) File.Delete(path);
    }

    public long Length { get; private set; }

    public long Append(ReadOnlySpan<byte> utf8)
    {
        long offset = Length;
        _stream.Write(utf8);
        Length += utf8.Length;
        _dirty = true;
        return offset;
    }

    public void Read(long offset, Span<byte> destination)
    {
        if (_dirty)
        {
            _stream.Flush();
            _dirty = false;
        }
        int read = 0;
        while (read < destination.Length)
        {
            int n = RandomAccess.Read(_stream.SafeFileHandle, destination[read..], offset + read);
            if (n == 0) throw new IOException("the selection's scratch file ended early");
            read += n;
        }
    }

    public string ReadString(in HeldSample sample)
    {
        var bytes = new byte[sample.ByteLength];
        Read(sample.SpillOffset, bytes);
        return Encoding.UTF8.GetString(bytes);
    }

    public void Dispose() => _stream.Dispose();
}
