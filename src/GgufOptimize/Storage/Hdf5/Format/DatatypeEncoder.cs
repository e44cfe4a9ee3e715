namespace GgufOptimize.Storage.Hdf5.Format;

/// <summary>Encodes datatype messages (version 1, little-endian) for the types we write.</summary>
internal static class DatatypeEncoder
{
    public static void Element(LittleEndianBuffer buf, H5ElementType type)
    {
        switch (type)
        {
            case H5ElementType.Bool: BoolEnum(buf); break;
            case H5ElementType.Int8: FixedPoint(buf, 1, signed: true); break;
            case H5ElementType.UInt8: FixedPoint(buf, 1, signed: false); break;
            case H5ElementType.Int16: FixedPoint(buf, 2, signed: true); break;
            case H5ElementType.UInt16: FixedPoint(buf, 2, signed: false); break;
            case H5ElementType.Int32: FixedPoint(buf, 4, signed: true); break;
            case H5ElementType.UInt32: FixedPoint(buf, 4, signed: false); break;
            case H5ElementType.Int64: FixedPoint(buf, 8, signed: true); break;
            case H5ElementType.UInt64: FixedPoint(buf, 8, signed: false); break;
            case H5ElementType.Float16: FloatingPoint(buf, 2); break;
            case H5ElementType.Float32: FloatingPoint(buf, 4); break;
            case H5ElementType.Float64: FloatingPoint(buf, 8); break;
            default: throw new ArgumentOutOfRangeException(nameof(type), type, null);
        }
    }

    private static void Header(LittleEndianBuffer buf, int typeClass, int bits0, int bits8, int bits16, int size)
    {
        buf.U8(0x10 | typeClass); // version 1
        buf.U8(bits0);
        buf.U8(bits8);
        buf.U8(bits16);
        buf.U32((uint)size);
    }

    public static void FixedPoint(LittleEndianBuffer buf, int size, bool signed)
    {
        Header(buf, TypeClass.FixedPoint, signed ? 0x08 : 0x00, 0, 0, size);
        buf.U16(0);          // bit offset
        buf.U16(size * 8);   // bit precision
    }

    public static void FloatingPoint(LittleEndianBuffer buf, int size)
    {
        (int exponentLocation, int exponentSize, int mantissaSize, uint bias) = size switch
        {
            2 => (10, 5, 10, 15u),
            4 => (23, 8, 23, 127u),
            8 => (52, 11, 52, 1023u),
            _ => throw new ArgumentOutOfRangeException(nameof(size)),
        };
        // Bits 4-5 = 2: mantissa has an implied leading 1; bits 8-15: sign bit position.
        Header(buf, TypeClass.FloatingPoint, 0x20, size * 8 - 1, 0, size);
        buf.U16(0);
        buf.U16(size * 8);
        buf.U8(exponentLocation);
        buf.U8(exponentSize);
        buf.U8(0);
        buf.U8(mantissaSize);
        buf.U32(bias);
    }

    /// <summary>h5py's bool: an enum over int8 with members FALSE=0 and TRUE=1.</summary>
    public static void BoolEnum(LittleEndianBuffer buf)
    {
        Header(buf, TypeClass.Enumerated, 2, 0, 0, 1);
        FixedPoint(buf, 1, signed: true);
        // Version 1 enums pad each null-terminated name to a multiple of 8 bytes.
        foreach (var name in new[] { "FALSE", "TRUE" })
        {
            int start = buf.Length;
            buf.Bytes(System.Text.Encoding.ASCII.GetBytes(name));
            buf.U8(0);
            buf.Zeros((8 - (buf.Length - start) % 8) % 8);
        }
        buf.U8(0);
        buf.U8(1);
    }

    /// <summary>A variable-length UTF-8 string (what h5py writes for a Python str), stored in the global heap.</summary>
    public static void VlenUtf8String(LittleEndianBuffer buf)
    {
        // bits 0-3: 1 = string; bits 4-7: 0 = null-terminated padding; bits 8-11: 1 = UTF-8.
        Header(buf, TypeClass.VariableLength, 0x01, 0x01, 0, H5Constants.VlenElementSize);
        FixedPoint(buf, 1, signed: false);
    }
}
