using System.Runtime.InteropServices;
using System.Text;
using GgufOptimize.Common;

namespace GgufOptimize.Gguf;

/// <summary>
/// Parses the header of a GGUF file (metadata and tensor infos) through a buffered stream, never touching
/// tensor data. Every length is checked against the bytes left in the file, so a corrupt or truncated file
/// fails with one clear error instead of a huge allocation.
/// </summary>
internal sealed class GgufReader
{
    private const int MaxNesting = 8;
    private readonly string _path;
    private readonly Stream _stream;
    private readonly long _length;
    /// <summary>
    /// Our own read-ahead over <see cref="_stream"/>: a 32k vocabulary is 64k tiny reads (a length, then the bytes),
    /// and going through a BufferedStream for each was a visible share of start-up.
    /// </summary>
    private readonly byte[] _buffer = new byte[1 << 16];
    private long _bufferStart;
    private int _bufferPos, _bufferFill;

    private GgufReader(string path, Stream stream, long length)
    {
        _path = path;
        _stream = stream;
        _length = length;
    }

    public static GgufFile Read(string path)
    {
        if (!BitConverter.IsLittleEndian) throw GgufOptimizeException.Runtime("GGUF reading needs a little-endian machine");
        if (Directory.Exists(path)) throw GgufOptimizeException.BadInput($"'{path}' is a directory, not a GGUF file");
        if (!File.Exists(path)) throw GgufOptimizeException.BadInput($"GGUF file '{path}' does not exist");
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            return new GgufReader(path, file, file.Length).ReadFile();
        }
        catch (UnauthorizedAccessException e)
        {
            throw GgufOptimizeException.BadInput($"GGUF file '{path}' cannot be read: {e.Message}");
        }
    }

    private long Position => _bufferStart + _bufferPos;

    private long Remaining => _length - Position;

    private GgufFile ReadFile()
    {
        if (_length < 4) throw Bad($"is not a GGUF file (only {_length} bytes)");
        uint magic = ReadU32();
        if (magic != GgufFormat.Magic) throw Bad($"is not a GGUF file (starts with {MagicText(magic)}, expected \"GGUF\")");
        if (_length < 24) throw Truncated("in the header");
        uint version = ReadU32();
        if (version is not (2 or 3))
        {
            if (System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(version) is 2 or 3)
                throw Bad("is a big-endian GGUF file, which is not supported");
            throw Bad($"has GGUF version {version}; only versions 2 and 3 are supported");
        }
        ulong tensorCount = ReadU64();
        ulong kvCount = ReadU64();
        // Smallest possible entries: key (8-byte length + 1 byte) + type + 1-byte value; tensor name + n_dims + type + offset.
        if (kvCount > (ulong)Remaining / 14) throw Bad($"claims {kvCount} metadata entries, more than its {_length} bytes can hold (corrupt header)");
        if (tensorCount > (ulong)Remaining / 24) throw Bad($"claims {tensorCount} tensors, more than its {_length} bytes can hold (corrupt header)");

        var metadata = new GgufMetadata();
        for (ulong i = 0; i < kvCount; i++)
        {
            string key = Encoding.UTF8.GetString(ReadStringBytes("a metadata key"));
            string shown = Printable(key);
            if (key.Length == 0) throw Bad($"has an empty metadata key (entry {i + 1} of {kvCount}; corrupt header)");
            var type = ReadValueType($"metadata '{shown}'");
            var value = ReadValue(type, shown, 0);
            if (metadata.Contains(key)) throw Bad($"has metadata key '{shown}' twice");
            metadata.Set(key, value);
        }

        long alignment = GgufFormat.DefaultAlignment;
        if (metadata.TryGet(GgufKeys.Alignment, out var alignValue))
        {
            if (alignValue.Type != GgufValueType.UInt32 || !GgufFormat.IsValidAlignment(alignValue.AsInt64()))
                throw Bad($"has an invalid {GgufKeys.Alignment} ({alignValue}); it must be a uint32 power of two");
            alignment = alignValue.AsInt64();
        }

        var tensors = new List<GgufTensorInfo>((int)tensorCount);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (ulong i = 0; i < tensorCount; i++)
        {
            var tensor = ReadTensorInfo(alignment);
            if (!names.Add(tensor.Name)) throw Bad($"has tensor '{Printable(tensor.Name)}' twice");
            tensors.Add(tensor);
        }

        long dataOffset = GgufFormat.Align(Position, alignment);
        long dataLength = _length - dataOffset;
        foreach (var t in tensors)
        {
            long end = t.Offset + t.ByteSize;
            if (end > dataLength)
                throw Truncated($"(tensor '{t.Name}' data ends at byte {dataOffset + end:N0} but the file has {_length:N0} bytes)");
        }
        return new GgufFile(_path, (int)version, alignment, metadata, tensors, dataOffset, _length);
    }

    private GgufTensorInfo ReadTensorInfo(long alignment)
    {
        string realName = Encoding.UTF8.GetString(ReadStringBytes("a tensor name"));
        string name = Printable(realName);
        uint nDims = ReadU32();
        if (nDims > GgufFormat.MaxDimensions) throw Bad($"tensor '{name}' has {nDims} dimensions (at most {GgufFormat.MaxDimensions} allowed)");
        var dims = new long[nDims];
        long elements = 1;
        for (int d = 0; d < nDims; d++)
        {
            ulong ne = ReadU64();
            if (ne > long.MaxValue) throw Bad($"tensor '{name}' has an absurd dimension {ne}");
            dims[d] = (long)ne;
            try { elements = checked(elements * dims[d]); }
            catch (OverflowException) { throw Bad($"tensor '{name}' has absurd dimensions {string.Join("x", dims.Take(d + 1))}"); }
        }
        uint typeId = ReadU32();
        if (!GgmlTypes.IsKnown(typeId)) throw Bad($"tensor '{name}' has unknown ggml type id {typeId}");
        var type = (GgmlType)typeId;
        var info = GgmlTypes.Info(type);
        long rowLength = nDims > 0 ? dims[0] : 1;
        if (!info.FitsRow(rowLength)) throw Bad($"tensor '{name}' has rows of {rowLength} elements, not a multiple of the {info.Name} block size {info.BlockSize}");
        ulong offset = ReadU64();
        if (offset > long.MaxValue || (long)offset > _length) throw Truncated($"(tensor '{name}' data offset {offset:N0} is beyond the end of the file)");
        if ((long)offset % alignment != 0) throw Bad($"tensor '{name}' data offset {offset} is not a multiple of the alignment {alignment}");
        return new GgufTensorInfo(realName, type, dims, (long)offset);
    }

    private GgufValueType ReadValueType(string where)
    {
        uint t = ReadU32();
        if (t > (uint)GgufValueType.Float64) throw Bad($"{where} has unknown value type {t}");
        return (GgufValueType)t;
    }

    private GgufValue ReadValue(GgufValueType type, string key, int depth)
    {
        switch (type)
        {
            case GgufValueType.UInt8: return GgufValue.UInt8(ReadExact(1)[0]);
            case GgufValueType.Int8: return GgufValue.Int8((sbyte)ReadExact(1)[0]);
            case GgufValueType.UInt16: return GgufValue.UInt16(BitConverter.ToUInt16(ReadExact(2)));
            case GgufValueType.Int16: return GgufValue.Int16(BitConverter.ToInt16(ReadExact(2)));
            case GgufValueType.UInt32: return GgufValue.UInt32(ReadU32());
            case GgufValueType.Int32: return GgufValue.Int32(BitConverter.ToInt32(ReadExact(4)));
            case GgufValueType.Float32: return GgufValue.Float32(BitConverter.ToSingle(ReadExact(4)));
            case GgufValueType.UInt64: return GgufValue.UInt64(ReadU64());
            case GgufValueType.Int64: return GgufValue.Int64(BitConverter.ToInt64(ReadExact(8)));
            case GgufValueType.Float64: return GgufValue.Float64(BitConverter.ToDouble(ReadExact(8)));
            case GgufValueType.Bool: return GgufValue.Bool(ReadBool(key));
            case GgufValueType.String: return GgufValue.OwnedString(ReadStringBytes($"metadata '{key}'"));
            default: return ReadArray(key, depth);
        }
    }

    private GgufValue ReadArray(string key, int depth)
    {
        if (depth >= MaxNesting) throw Bad($"metadata '{key}' nests arrays more than {MaxNesting} deep");
        var elementType = ReadValueType($"metadata '{key}'");
        ulong count = ReadU64();
        int minSize = elementType switch
        {
            GgufValueType.String => 8,
            GgufValueType.Array => 12,
            _ => FixedSize(elementType),
        };
        if (count > (ulong)Remaining / (ulong)minSize || count > int.MaxValue)
            throw Bad($"metadata '{key}' claims an array of {count} elements, more than the file can hold (corrupt or truncated)");
        int n = (int)count;
        switch (elementType)
        {
            case GgufValueType.String:
                var strings = new byte[n][];
                string where = $"metadata '{key}'";
                for (int i = 0; i < n; i++) strings[i] = ReadStringBytes(where);
                return GgufValue.OwnedArray(elementType, strings);
            case GgufValueType.Array:
                var arrays = new GgufValue[n];
                for (int i = 0; i < n; i++)
                {
                    var inner = ReadValueType($"metadata '{key}'");
                    if (inner != GgufValueType.Array) throw Bad($"metadata '{key}' is an array of arrays holding a {inner}");
                    arrays[i] = ReadArray(key, depth + 1);
                }
                return GgufValue.OwnedArray(elementType, arrays);
            case GgufValueType.Bool:
                var raw = ReadExact(n);
                var bools = new bool[n];
                for (int i = 0; i < n; i++)
                    bools[i] = raw[i] switch { 0 => false, 1 => true, _ => throw Bad($"metadata '{key}' has a bool that is neither 0 nor 1") };
                return GgufValue.OwnedArray(elementType, bools);
            default:
                return GgufValue.OwnedArray(elementType, ReadPrimitiveArray(elementType, n));
        }
    }

    private System.Array ReadPrimitiveArray(GgufValueType type, int n)
    {
        System.Array array = type switch
        {
            GgufValueType.UInt8 => new byte[n],
            GgufValueType.Int8 => new sbyte[n],
            GgufValueType.UInt16 => new ushort[n],
            GgufValueType.Int16 => new short[n],
            GgufValueType.UInt32 => new uint[n],
            GgufValueType.Int32 => new int[n],
            GgufValueType.Float32 => new float[n],
            GgufValueType.UInt64 => new ulong[n],
            GgufValueType.Int64 => new long[n],
            GgufValueType.Float64 => new double[n],
            _ => throw new InvalidOperationException(type.ToString()),
        };
        var bytes = MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(array), n * FixedSize(type));
        FillExact(bytes);
        return array;
    }

    internal static int FixedSize(GgufValueType type) => type switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
        _ => throw new ArgumentException($"{type} has no fixed size"),
    };

    private bool ReadBool(string key) => ReadExact(1)[0] switch
    {
        0 => false,
        1 => true,
        var b => throw Bad($"metadata '{key}' has a bool of value {b} (must be 0 or 1)"),
    };

    private byte[] ReadStringBytes(string what)
    {
        ulong len = ReadU64();
        if (len > (ulong)Remaining) throw Truncated($"(a string in {what} claims {len:N0} bytes, only {Remaining:N0} remain)");
        if (len > int.MaxValue) throw Bad($"has an absurd string length {len} in {what}");
        var bytes = new byte[len];
        FillExact(bytes);
        return bytes;
    }

    private uint ReadU32() => BitConverter.ToUInt32(ReadExact(4));
    private ulong ReadU64() => BitConverter.ToUInt64(ReadExact(8));

    /// <summary>The next <paramref name="n"/> bytes; a short span stays valid only until the next read.</summary>
    private ReadOnlySpan<byte> ReadExact(int n)
    {
        if (_bufferFill - _bufferPos >= n)
        {
            var inBuffer = _buffer.AsSpan(_bufferPos, n);
            _bufferPos += n;
            return inBuffer;
        }
        var bytes = new byte[n];
        FillExact(bytes);
        return bytes;
    }

    private void FillExact(Span<byte> destination)
    {
        while (true)
        {
            int available = _bufferFill - _bufferPos;
            if (destination.Length <= available)
            {
                _buffer.AsSpan(_bufferPos, destination.Length).CopyTo(destination);
                _bufferPos += destination.Length;
                return;
            }
            _buffer.AsSpan(_bufferPos, available).CopyTo(destination);
            destination = destination[available..];
            _bufferStart += _bufferFill;
            _bufferPos = _bufferFill = 0;
            if (destination.Length >= _buffer.Length)
            {
                // A large value (a long array) goes straight to its destination.
                try { _stream.ReadExactly(destination); }
                catch (EndOfStreamException) { throw Truncated("(ends inside the header)"); }
                _bufferStart += destination.Length;
                return;
            }
            _bufferFill = _stream.Read(_buffer);
            if (_bufferFill == 0) throw Truncated("(ends inside the header)");
        }
    }

    /// <summary>A key or name as it may appear in a one-line message: control characters replaced, at most 80 characters.</summary>
    internal static string Printable(string text)
    {
        if (text.Length <= 80 && !text.Any(char.IsControl)) return text;
        var chars = text.Take(80).Select(c => char.IsControl(c) ? '?' : c).ToArray();
        return new string(chars) + (text.Length > 80 ? $"… ({text.Length} characters)" : "");
    }

    private static string MagicText(uint magic)
    {
        var bytes = BitConverter.GetBytes(magic);
        return bytes.All(b => b is >= 0x20 and < 0x7f) ? "\"" + Encoding.ASCII.GetString(bytes) + "\"" : "0x" + Convert.ToHexString(bytes);
    }

    private GgufOptimizeException Bad(string what) => GgufOptimizeException.BadInput($"'{_path}' {what}");
    private GgufOptimizeException Truncated(string detail) => GgufOptimizeException.BadInput($"GGUF file '{_path}' is truncated {detail}");
}
