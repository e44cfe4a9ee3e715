using System.Text;

namespace GgufOptimize.Storage.Hdf5.Format;

/// <summary>Decodes attribute messages (versions 1-3) into plain .NET values.</summary>
internal static class AttributeDecoder
{
    public static (string Name, object Value) Decode(HeaderMessage message, string objectPath, MetadataSource src, GlobalHeapReader heap)
    {
        var c = src.Cursor(message.Body, $"attribute message of {objectPath}");
        int version = c.U8();
        if (version is < 1 or > 3) throw src.Corrupt($"attribute message of {objectPath} has unknown version {version}");
        int flags = c.U8();
        int nameSize = c.U16(), typeSize = c.U16(), spaceSize = c.U16();
        if (version == 3) c.Skip(1); // name character set
        int Padded(int n) => version == 1 ? (n + 7) & ~7 : n;
        string name = c.Slice(Padded(nameSize), "attribute name").NullTerminatedAscii(nameSize);
        string what = $"attribute '{name}' of {objectPath}";
        if ((flags & 0x03) != 0 || message.IsShared)
            throw src.Unsupported($"{what} uses a shared datatype or dataspace, which is not supported");
        var type = DatatypeDecoder.Decode(c.Slice(Padded(typeSize), $"datatype of {what}"));
        var dims = DataspaceDecoder.Decode(c.Slice(Padded(spaceSize), $"dataspace of {what}"), what);
        if (dims is null) throw src.Unsupported($"{what} is empty (null dataspace), which is not supported");
        long count = dims.Aggregate(1L, (a, d) => checked(a * d));
        if (count > c.Remaining || count * type.Size > c.Remaining)
            throw src.Corrupt($"{what} has less data than its shape needs");
        var values = new object[count];
        for (long i = 0; i < count; i++)
            values[i] = Element(c.Bytes(type.Size), type, what, src, heap);
        return (name, Shape(values, type, scalar: dims.Length == 0));
    }

    private static object Element(ReadOnlySpan<byte> bytes, DecodedType type, string what, MetadataSource src, GlobalHeapReader heap)
    {
        if (type.BigEndian && type.Size > 1) throw src.Unsupported($"{what} is big-endian, which is not supported");
        switch (type.Class)
        {
            case TypeClass.FixedPoint when type.Size is 1 or 2 or 4 or 8:
            {
                long v = DatatypeDecoder.ReadInteger(bytes, type);
                if (!type.Signed && type.Size == 8 && v < 0) throw src.Unsupported($"{what} holds a uint64 above the int64 range");
                return v;
            }
            case TypeClass.FloatingPoint when type.IsIeee():
                return type.Size switch
                {
                    2 => (double)BitConverter.ToHalf(bytes),
                    4 => (double)BitConverter.ToSingle(bytes),
                    _ => BitConverter.ToDouble(bytes),
                };
            case TypeClass.Enumerated when type.IsBool():
                return bytes[0] != 0;
            case TypeClass.Enumerated when type.Base is { Class: TypeClass.FixedPoint, Size: 1 or 2 or 4 or 8 }:
                return DatatypeDecoder.ReadInteger(bytes, type.Base);
            case TypeClass.String:
            {
                int end = type.StringPadding == 2 ? bytes.TrimEnd((byte)' ').Length : bytes.IndexOf((byte)0);
                return Encoding.UTF8.GetString(end >= 0 ? bytes[..end] : bytes);
            }
            case TypeClass.VariableLength when type.IsVlenString:
            {
                var c = src.Cursor(bytes.ToArray(), what);
                uint length = c.U32();
                ulong address = c.Offset();
                uint index = c.U32();
                if (length == 0) return "";
                var stored = heap.Object(address, index, what);
                if (length > (uint)stored.Length) throw src.Corrupt($"{what}: string longer than its heap object");
                var text = stored[..(int)length];
                int nul = text.IndexOf((byte)0);
                return Encoding.UTF8.GetString(nul >= 0 ? text[..nul] : text);
            }
            default:
                throw src.Unsupported($"{what} has datatype {type.Describe()}, which is not supported");
        }
    }

    private static object Shape(object[] values, DecodedType type, bool scalar)
    {
        if (scalar) return values[0];
        return values.Length == 0 ? EmptyOf(type) : values[0] switch
        {
            string => values.Cast<string>().ToArray(),
            long => values.Cast<long>().ToArray(),
            double => values.Cast<double>().ToArray(),
            bool => values.Cast<bool>().ToArray(),
            _ => values,
        };
    }

    private static object EmptyOf(DecodedType type) => type.Class switch
    {
        TypeClass.FloatingPoint => Array.Empty<double>(),
        TypeClass.String or TypeClass.VariableLength => Array.Empty<string>(),
        TypeClass.Enumerated when type.IsBool() => Array.Empty<bool>(),
        _ => Array.Empty<long>(),
    };
}
