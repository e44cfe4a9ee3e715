using System.Text;

namespace GgufOptimize.Storage.Hdf5.Format;

/// <summary>Decodes datatype messages: fixed/floating point, strings, enums and variable-length types; others are reported by class.</summary>
internal static class DatatypeDecoder
{
    public static DecodedType Decode(ByteCursor c)
    {
        int classAndVersion = c.U8();
        int typeClass = classAndVersion & 0x0F;
        int version = classAndVersion >> 4;
        int bits0 = c.U8(), bits8 = c.U8(), bits16 = c.U8();
        uint rawSize = c.U32();
        if (rawSize > int.MaxValue) throw c.Source.Corrupt($"{c.What} declares an element size of {rawSize} bytes");
        int size = (int)rawSize;
        switch (typeClass)
        {
            case TypeClass.FixedPoint:
            {
                int bitOffset = c.U16(), precision = c.U16();
                return new DecodedType
                {
                    Class = typeClass, Size = size, BigEndian = (bits0 & 1) != 0, Signed = (bits0 & 0x08) != 0,
                    BitOffset = bitOffset, Precision = precision,
                };
            }
            case TypeClass.FloatingPoint:
            {
                int bitOffset = c.U16(), precision = c.U16();
                int expLoc = c.U8(), expSize = c.U8(), mantLoc = c.U8(), mantSize = c.U8();
                uint bias = c.U32();
                return new DecodedType
                {
                    Class = typeClass, Size = size, BigEndian = (bits0 & 1) != 0 || (bits0 & 0x40) != 0,
                    MantissaNormalization = (bits0 >> 4) & 3, SignLocation = bits8,
                    BitOffset = bitOffset, Precision = precision, ExponentLocation = expLoc, ExponentSize = expSize,
                    MantissaLocation = mantLoc, MantissaSize = mantSize, ExponentBias = bias,
                };
            }
            case TypeClass.String:
                return new DecodedType { Class = typeClass, Size = size, StringPadding = bits0 & 0x0F };
            case TypeClass.Enumerated:
            {
                var baseType = Decode(c);
                int count = bits0 | (bits8 << 8);
                var names = new string[count];
                for (int i = 0; i < count; i++)
                {
                    int start = c.Position;
                    names[i] = ReadName(c);
                    if (version < 3)
                        c.Skip((8 - (c.Position - start) % 8) % 8);
                }
                if (baseType.Size != size || size is not (1 or 2 or 4 or 8))
                    throw c.Source.Corrupt($"{c.What}: enum of size {size} over a base type of size {baseType.Size}");
                var values = new long[count];
                for (int i = 0; i < count; i++)
                    values[i] = ReadInteger(c.Bytes(baseType.Size), baseType);
                return new DecodedType { Class = typeClass, Size = size, Base = baseType, MemberNames = names, MemberValues = values };
            }
            case TypeClass.VariableLength:
            {
                var baseType = Decode(c);
                if (size != 8 + c.Source.OffsetSize)
                    throw c.Source.Corrupt($"{c.What}: variable-length type of size {size}");
                return new DecodedType
                {
                    Class = typeClass, Size = size, Base = baseType, IsVlenString = (bits0 & 0x0F) == 1,
                    StringPadding = (bits0 >> 4) & 0x0F,
                };
            }
            default:
                // Properties of other classes are not needed: callers reject these types.
                return new DecodedType { Class = typeClass, Size = size };
        }
    }

    private static string ReadName(ByteCursor c)
    {
        var bytes = new List<byte>();
        for (int b = c.U8(); b != 0; b = c.U8()) bytes.Add((byte)b);
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>A little-endian integer of 1, 2, 4 or 8 bytes; unsigned values above long.MaxValue are rejected by the caller.</summary>
    public static long ReadInteger(ReadOnlySpan<byte> bytes, DecodedType type)
    {
        ulong raw = 0;
        for (int i = bytes.Length - 1; i >= 0; i--) raw = (raw << 8) | bytes[i];
        if (type.Signed && bytes.Length < 8)
        {
            int shift = 64 - bytes.Length * 8;
            return (long)(raw << shift) >> shift;
        }
        return (long)raw;
    }
}
