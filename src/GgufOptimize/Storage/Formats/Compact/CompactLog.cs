using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using GgufOptimize.Common;

namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>
/// The working file of a compact baseline being written (<c>NAME.partial</c>): an identity header, then one record per
/// finished chunk (an opaque payload: a <see cref="CompactChunk"/> for compact-1, an encoded blob for the quantized
/// format), appended and synced. A compact chunk's size is known only once it is encoded, so chunks cannot go
/// to offsets fixed in advance; appending is cheap because the data is small, and the final HDF5 file is built from
/// this log in one pass. Each record ends with a SHA-256 of itself: a record cut short by a kill (or garbled by a
/// power cut) fails the check and is dropped together with everything after it, so its chunk is simply computed again.
/// </summary>
internal sealed class CompactLog : IDisposable
{
    private static readonly byte[] Magic = "GGOCLOG2"u8.ToArray();
    private const uint RecordMagic = 0x4B4E4843; // "CHNK"
    private const int RecordHeaderBytes = 16;
    private const int HashBytes = 32;

    private readonly FileStream _stream;
    private readonly Dictionary<int, (long Offset, int Length)> _records = new();
    private long _end;

    public string Path { get; }
    public string Identity { get; }
    public IReadOnlyCollection<int> Chunks => _records.Keys;

    private CompactLog(string path, FileStream stream, string identity, long end)
    {
        Path = path;
        _stream = stream;
        Identity = identity;
        _end = end;
    }

    /// <summary>
    /// Starts a log holding only its identity. The header is written whole under a temporary name first: a log under
    /// its real name always has one, so a kill never leaves a file the next run cannot recognise as its own.
    /// </summary>
    public static CompactLog Create(string path, string identity)
    {
        byte[] id = Encoding.UTF8.GetBytes(identity);
        var head = new byte[Magic.Length + 4 + id.Length];
        Magic.CopyTo(head, 0);
        BinaryPrimitives.WriteInt32LittleEndian(head.AsSpan(Magic.Length), id.Length);
        id.CopyTo(head, Magic.Length + 4);
        AtomicFile.WriteAllBytes(path, head);
        var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, 1 << 16);
        return new CompactLog(path, stream, identity, stream.Length);
    }

    /// <summary>Reads the identity only (null when the file is not a compact log), to decide whether to continue it.</summary>
    public static string? ReadIdentity(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return ReadIdentity(stream);
    }

    /// <summary>Opens an existing log and keeps its valid records; a damaged or cut tail is truncated away.</summary>
    public static CompactLog Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, 1 << 16);
        try
        {
            string identity = ReadIdentity(stream) ?? throw GgufOptimizeException.BadInput($"'{path}' is not a compact baseline working file");
            var log = new CompactLog(path, stream, identity, stream.Position);
            log.Scan();
            return log;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    public void Append(int chunk, CompactChunk data)
    {
        var payload = new byte[8 + PayloadBytes(data.Rows, data.Entries)];
        var span = payload.AsSpan();
        BinaryPrimitives.WriteInt32LittleEndian(span, data.Rows);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], data.Entries);
        int o = 8;
        o += Put(span[o..], data.Counts);
        o += Put(span[o..], data.TailMass);
        o += Put(span[o..], data.LogNorm);
        o += Put(span[o..], data.NextLogit);
        o += Put(span[o..], data.Ids);
        Put(span[o..], data.Logits);
        Append(chunk, payload);
    }

    /// <summary>Appends one chunk's record and syncs it; a later record of the same chunk replaces it.</summary>
    public void Append(int chunk, ReadOnlySpan<byte> payload)
    {
        long bytes = RecordHeaderBytes + (long)payload.Length + HashBytes;
        var record = new byte[bytes];
        var span = record.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, RecordMagic);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], chunk);
        BinaryPrimitives.WriteInt64LittleEndian(span[8..], payload.Length);
        payload.CopyTo(span[RecordHeaderBytes..]);
        int o = RecordHeaderBytes + payload.Length;
        SHA256.HashData(span[..o], span[o..]);
        RandomAccess.Write(_stream.SafeFileHandle, record, _end);
        FileStep.Sync(_stream);
        _records[chunk] = (_end, payload.Length);
        _end += bytes;
    }

    public bool Has(int chunk) => _records.ContainsKey(chunk);

    /// <summary>One chunk's payload, as appended.</summary>
    public byte[] Read(int chunk)
    {
        var (offset, length) = _records[chunk];
        var payload = new byte[length];
        RandomAccess.Read(_stream.SafeFileHandle, payload, offset + RecordHeaderBytes);
        return payload;
    }

    /// <summary>Reads one compact-1 chunk's record into <paramref name="into"/> (cleared first).</summary>
    public void Read(int chunk, CompactChunk into)
    {
        var record = Read(chunk);
        int rows = BinaryPrimitives.ReadInt32LittleEndian(record);
        int entries = BinaryPrimitives.ReadInt32LittleEndian(record.AsSpan(4));
        if (rows < 0 || entries < 0 || 8 + PayloadBytes(rows, entries) != record.Length)
            throw GgufOptimizeException.Runtime($"compact working file '{Path}': chunk {chunk}'s record is not a compact-1 chunk");
        var payload = record.AsSpan(8);
        into.Clear();
        int o = 0;
        var counts = MemoryMarshal.Cast<byte, int>(payload.Slice(o, rows * 4)); o += rows * 4;
        var tail = MemoryMarshal.Cast<byte, float>(payload.Slice(o, rows * 4)); o += rows * 4;
        var logNorm = MemoryMarshal.Cast<byte, double>(payload.Slice(o, rows * 8)); o += rows * 8;
        var next = MemoryMarshal.Cast<byte, float>(payload.Slice(o, rows * 4)); o += rows * 4;
        var ids = MemoryMarshal.Cast<byte, int>(payload.Slice(o, entries * 4)); o += entries * 4;
        var logits = MemoryMarshal.Cast<byte, float>(payload.Slice(o, entries * 4));
        into.AddRange(counts, tail, logNorm, next, ids, logits);
    }

    public void Dispose() => _stream.Dispose();

    private static long PayloadBytes(int rows, int entries) => 20L * rows + 8L * entries;

    private static int Put<T>(Span<byte> destination, ReadOnlySpan<T> values) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(values);
        bytes.CopyTo(destination);
        return bytes.Length;
    }

    private static string? ReadIdentity(FileStream stream)
    {
        Span<byte> head = stackalloc byte[12];
        if (stream.Length < 12 || stream.Read(head) != 12 || !head[..8].SequenceEqual(Magic)) return null;
        int length = BinaryPrimitives.ReadInt32LittleEndian(head[8..]);
        if (length < 0 || length > stream.Length - 12) return null;
        var id = new byte[length];
        stream.ReadExactly(id);
        return Encoding.UTF8.GetString(id);
    }

    private void Scan()
    {
        long position = _end, length = _stream.Length;
        var header = new byte[RecordHeaderBytes];
        Span<byte> hash = stackalloc byte[HashBytes];
        while (position + RecordHeaderBytes + HashBytes <= length)
        {
            RandomAccess.Read(_stream.SafeFileHandle, header, position);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header) != RecordMagic) break;
            int chunk = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(4));
            long payload = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(8));
            if (chunk < 0 || payload < 0 || payload > int.MaxValue) break;
            long bytes = RecordHeaderBytes + payload + HashBytes;
            if (position + bytes > length || bytes > int.MaxValue) break;
            var record = new byte[bytes];
            RandomAccess.Read(_stream.SafeFileHandle, record, position);
            SHA256.HashData(record.AsSpan(0, (int)bytes - HashBytes), hash);
            if (!hash.SequenceEqual(record.AsSpan((int)bytes - HashBytes))) break;
            _records[chunk] = (position, (int)payload);
            position += bytes;
        }
        _end = position;
        if (_stream.Length != position) _stream.SetLength(position);
    }
}
