using System.Buffers.Binary;
using System.Text;

namespace GgufOptimize.Storage.Hdf5.Format;

/// <summary>Sequential little-endian reads over a metadata block; running off its end is a Corrupt error.</summary>
internal sealed class ByteCursor
{
    private readonly byte[] _data;
    private readonly int _end;
    private readonly MetadataSource _source;
    private readonly string _what;

    public ByteCursor(byte[] data, MetadataSource source, string what) : this(data, 0, data.Length, source, what) { }

    private ByteCursor(byte[] data, int start, int end, MetadataSource source, string what)
    {
        _data = data;
        Position = start;
        _end = end;
        _source = source;
        _what = what;
    }

    public int Position { get; set; }
    public int Remaining => _end - Position;
    public string What => _what;
    public MetadataSource Source => _source;

    public int U8() => Take(1)[0];
    public int U16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
    public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
    public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    /// <summary>An unsigned value of 1, 2, 4 or 8 bytes.</summary>
    public ulong Sized(int size) => size switch
    {
        1 => (ulong)U8(),
        2 => (ulong)U16(),
        4 => U32(),
        8 => U64(),
        _ => throw _source.Corrupt($"{_what}: field size {size} is not 1, 2, 4 or 8"),
    };

    /// <summary>A file address; all bits set (in any width) is <see cref="H5Constants.UndefinedAddress"/>.</summary>
    public ulong Offset()
    {
        int size = _source.OffsetSize;
        ulong value = Sized(size);
        return size < 8 && value == (1UL << (size * 8)) - 1 ? H5Constants.UndefinedAddress : value;
    }

    public ulong Length() => Sized(_source.LengthSize);

    public void Skip(int count) => Take(count);

    public ReadOnlySpan<byte> Bytes(int count) => Take(count);

    /// <summary>The next <paramref name="count"/> bytes as their own cursor.</summary>
    public ByteCursor Slice(int count, string what)
    {
        Take(count);
        return new ByteCursor(_data, Position - count, Position, _source, what);
    }

    public string NullTerminatedAscii(int maxLength)
    {
        var span = Bytes(maxLength);
        int nul = span.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul >= 0 ? span[..nul] : span);
    }

    public bool Matches(ReadOnlySpan<byte> signature)
    {
        if (Remaining < signature.Length || !_data.AsSpan(Position, signature.Length).SequenceEqual(signature)) return false;
        Position += signature.Length;
        return true;
    }

    public ReadOnlySpan<byte> Consumed(int start) => _data.AsSpan(start, Position - start);

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > Remaining)
            throw _source.Corrupt($"{_what} is shorter than its fields claim (needs {count} more bytes, {Math.Max(0, Remaining)} left)");
        var span = _data.AsSpan(Position, count);
        Position += count;
        return span;
    }
}
