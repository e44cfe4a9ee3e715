using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace GgufOptimize.Gguf;

/// <summary>
/// One immutable GGUF metadata value: a scalar, a string, or an array (of scalars, strings or arrays).
/// Strings keep their exact bytes, so a file copied through reader and writer keeps metadata byte for byte
/// even where a string is not valid UTF-8.
/// </summary>
internal sealed class GgufValue : IEquatable<GgufValue>
{
    private static readonly Encoding Utf8 = new UTF8Encoding(false, false);

    public GgufValueType Type { get; }
    /// <summary>For arrays, the type of every element; otherwise equal to <see cref="Type"/>.</summary>
    public GgufValueType ElementType { get; }

    // Scalars: the boxed primitive (strings: byte[]). Arrays: a typed array (strings: byte[][], arrays: GgufValue[]).
    private readonly object _data;

    private GgufValue(GgufValueType type, GgufValueType elementType, object data)
    {
        Type = type;
        ElementType = elementType;
        _data = data;
    }

    public static GgufValue UInt8(byte v) => new(GgufValueType.UInt8, GgufValueType.UInt8, v);
    public static GgufValue Int8(sbyte v) => new(GgufValueType.Int8, GgufValueType.Int8, v);
    public static GgufValue UInt16(ushort v) => new(GgufValueType.UInt16, GgufValueType.UInt16, v);
    public static GgufValue Int16(short v) => new(GgufValueType.Int16, GgufValueType.Int16, v);
    public static GgufValue UInt32(uint v) => new(GgufValueType.UInt32, GgufValueType.UInt32, v);
    public static GgufValue Int32(int v) => new(GgufValueType.Int32, GgufValueType.Int32, v);
    public static GgufValue Float32(float v) => new(GgufValueType.Float32, GgufValueType.Float32, v);
    public static GgufValue Bool(bool v) => new(GgufValueType.Bool, GgufValueType.Bool, v);
    public static GgufValue UInt64(ulong v) => new(GgufValueType.UInt64, GgufValueType.UInt64, v);
    public static GgufValue Int64(long v) => new(GgufValueType.Int64, GgufValueType.Int64, v);
    public static GgufValue Float64(double v) => new(GgufValueType.Float64, GgufValueType.Float64, v);
    public static GgufValue String(string v) => new(GgufValueType.String, GgufValueType.String, Utf8.GetBytes(v));
    /// <summary>A string given as its raw bytes (normally UTF-8).</summary>
    public static GgufValue StringBytes(ReadOnlySpan<byte> v) => new(GgufValueType.String, GgufValueType.String, v.ToArray());

    public static GgufValue Array(IEnumerable<byte> items) => new(GgufValueType.Array, GgufValueType.UInt8, items.ToArray());
    public static GgufValue Array(IEnumerable<sbyte> items) => new(GgufValueType.Array, GgufValueType.Int8, items.ToArray());
    public static GgufValue Array(IEnumerable<ushort> items) => new(GgufValueType.Array, GgufValueType.UInt16, items.ToArray());
    public static GgufValue Array(IEnumerable<short> items) => new(GgufValueType.Array, GgufValueType.Int16, items.ToArray());
    public static GgufValue Array(IEnumerable<uint> items) => new(GgufValueType.Array, GgufValueType.UInt32, items.ToArray());
    public static GgufValue Array(IEnumerable<int> items) => new(GgufValueType.Array, GgufValueType.Int32, items.ToArray());
    public static GgufValue Array(IEnumerable<float> items) => new(GgufValueType.Array, GgufValueType.Float32, items.ToArray());
    public static GgufValue Array(IEnumerable<bool> items) => new(GgufValueType.Array, GgufValueType.Bool, items.ToArray());
    public static GgufValue Array(IEnumerable<ulong> items) => new(GgufValueType.Array, GgufValueType.UInt64, items.ToArray());
    public static GgufValue Array(IEnumerable<long> items) => new(GgufValueType.Array, GgufValueType.Int64, items.ToArray());
    public static GgufValue Array(IEnumerable<double> items) => new(GgufValueType.Array, GgufValueType.Float64, items.ToArray());
    public static GgufValue Array(IEnumerable<string> items) => new(GgufValueType.Array, GgufValueType.String, items.Select(s => Utf8.GetBytes(s)).ToArray());

    /// <summary>An array whose elements are themselves arrays (each may have its own element type).</summary>
    public static GgufValue Array(IEnumerable<GgufValue> arrays)
    {
        var items = arrays.ToArray();
        if (items.Any(v => v.Type != GgufValueType.Array)) throw new ArgumentException("a GGUF array of values must hold arrays only");
        return new(GgufValueType.Array, GgufValueType.Array, items);
    }

    // Used by the reader, which hands over arrays it allocated itself (no defensive copy needed).
    internal static GgufValue OwnedArray(GgufValueType elementType, object items) => new(GgufValueType.Array, elementType, items);
    internal static GgufValue OwnedString(byte[] bytes) => new(GgufValueType.String, GgufValueType.String, bytes);
    internal static GgufValue Scalar(GgufValueType type, object boxed) => new(type, type, boxed);

    public bool IsArray => Type == GgufValueType.Array;

    /// <summary>Number of elements of an array.</summary>
    public int Count => IsArray ? ((System.Array)_data).Length : throw NotA("an array");

    public string AsString() => Type == GgufValueType.String ? Utf8.GetString((byte[])_data) : throw NotA("a string");

    public ReadOnlySpan<byte> AsStringBytes() => Type == GgufValueType.String ? (byte[])_data : throw NotA("a string");

    public bool AsBool() => Type == GgufValueType.Bool ? (bool)_data : throw NotA("a bool");

    /// <summary>Any integer type as a long (a uint64 above long.MaxValue throws).</summary>
    public long AsInt64() => Type switch
    {
        GgufValueType.UInt8 => (byte)_data,
        GgufValueType.Int8 => (sbyte)_data,
        GgufValueType.UInt16 => (ushort)_data,
        GgufValueType.Int16 => (short)_data,
        GgufValueType.UInt32 => (uint)_data,
        GgufValueType.Int32 => (int)_data,
        GgufValueType.UInt64 => checked((long)(ulong)_data),
        GgufValueType.Int64 => (long)_data,
        _ => throw NotA("an integer"),
    };

    /// <summary>Any numeric type as a double.</summary>
    public double AsDouble() => Type switch
    {
        GgufValueType.Float32 => (float)_data,
        GgufValueType.Float64 => (double)_data,
        GgufValueType.UInt64 => (ulong)_data,
        _ => AsInt64(),
    };

    public bool IsInteger => Type is GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.UInt16 or GgufValueType.Int16
        or GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.UInt64 or GgufValueType.Int64;

    /// <summary>The elements of a numeric or bool array; <typeparamref name="T"/> must match <see cref="ElementType"/> exactly.</summary>
    public ReadOnlySpan<T> AsSpan<T>() where T : unmanaged =>
        IsArray && _data is T[] items ? items : throw NotA($"an array of {typeof(T).Name}");

    public string[] AsStringArray() =>
        IsArray && ElementType == GgufValueType.String ? ((byte[][])_data).Select(b => Utf8.GetString(b)).ToArray() : throw NotA("an array of strings");

    /// <summary>The raw bytes of each string of a string array.</summary>
    public IReadOnlyList<byte[]> AsStringBytesArray() =>
        IsArray && ElementType == GgufValueType.String ? (byte[][])_data : throw NotA("an array of strings");

    public IReadOnlyList<GgufValue> AsArrayOfArrays() =>
        IsArray && ElementType == GgufValueType.Array ? (GgufValue[])_data : throw NotA("an array of arrays");

    /// <summary>Every element of any array as a value (boxes; for display and generic code).</summary>
    public IEnumerable<GgufValue> Elements()
    {
        if (!IsArray) throw NotA("an array");
        return ElementType switch
        {
            GgufValueType.String => ((byte[][])_data).Select(OwnedString),
            GgufValueType.Array => (GgufValue[])_data,
            _ => ((System.Array)_data).Cast<object>().Select(o => Scalar(ElementType, o)),
        };
    }

    internal object Data => _data;

    /// <summary>A one-line rendering; arrays show at most <paramref name="maxItems"/> elements then "… (N items)".</summary>
    public string ToDisplayString(int maxItems = 8, int maxStringLength = 80)
    {
        switch (Type)
        {
            case GgufValueType.String:
                var s = AsString();
                if (s.Length > maxStringLength) s = s[..maxStringLength] + "…";
                return "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n").Replace("\r", "\\r").Replace("\t", "\\t") + "\"";
            case GgufValueType.Bool: return AsBool() ? "true" : "false";
            case GgufValueType.Float32: return ((float)_data).ToString("R", CultureInfo.InvariantCulture);
            case GgufValueType.Float64: return ((double)_data).ToString("R", CultureInfo.InvariantCulture);
            case GgufValueType.UInt64: return ((ulong)_data).ToString(CultureInfo.InvariantCulture);
            case GgufValueType.Array:
                var shown = Elements().Take(maxItems).Select(e => e.ToDisplayString(maxItems, maxStringLength));
                string more = Count > maxItems ? $", … ({Count} items)" : "";
                return "[" + string.Join(", ", shown) + more + "]";
            default: return AsInt64().ToString(CultureInfo.InvariantCulture);
        }
    }

    public override string ToString() => $"{Type}{(IsArray ? "[" + ElementType + "]" : "")} {ToDisplayString()}";

    public bool Equals(GgufValue? other)
    {
        if (other is null) return false;
        if (ReferenceEquals(this, other)) return true;
        if (Type != other.Type || ElementType != other.ElementType) return false;
        if (!IsArray)
            return Type == GgufValueType.String ? ((byte[])_data).AsSpan().SequenceEqual((byte[])other._data) : _data.Equals(other._data);
        if (Count != other.Count) return false;
        return ElementType switch
        {
            GgufValueType.String => ((byte[][])_data).Zip((byte[][])other._data).All(p => p.First.AsSpan().SequenceEqual(p.Second)),
            GgufValueType.Array => ((GgufValue[])_data).Zip((GgufValue[])other._data).All(p => p.First.Equals(p.Second)),
            _ => BytesOf(this).SequenceEqual(BytesOf(other)),
        };
    }

    public override bool Equals(object? obj) => obj is GgufValue v && Equals(v);

    public override int GetHashCode() => HashCode.Combine(Type, ElementType, IsArray ? Count : _data is byte[] b ? b.Length : _data.GetHashCode());

    /// <summary>The little-endian bytes of a fixed-size element array (bools as one byte each).</summary>
    internal static ReadOnlySpan<byte> BytesOf(GgufValue array) => array._data switch
    {
        byte[] a => a,
        sbyte[] a => MemoryMarshal.AsBytes(a.AsSpan()),
        ushort[] a => MemoryMarshal.AsBytes(a.AsSpan()),
        short[] a => MemoryMarshal.AsBytes(a.AsSpan()),
        uint[] a => MemoryMarshal.AsBytes(a.AsSpan()),
        int[] a => MemoryMarshal.AsBytes(a.AsSpan()),
        float[] a => MemoryMarshal.AsBytes(a.AsSpan()),
        bool[] a => MemoryMarshal.AsBytes(a.AsSpan()),
        ulong[] a => MemoryMarshal.AsBytes(a.AsSpan()),
        long[] a => MemoryMarshal.AsBytes(a.AsSpan()),
        double[] a => MemoryMarshal.AsBytes(a.AsSpan()),
        _ => throw new InvalidOperationException("not a fixed-size element array"),
    };

    private InvalidOperationException NotA(string what) => new($"GGUF value of type {Type}{(IsArray ? "[" + ElementType + "]" : "")} is not {what}");
}
