namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>LEB128 unsigned varints and zig-zag signed mapping (small magnitudes take one byte, which Brotli then squeezes further).</summary>
internal static class Varint
{
    public static int Write(Span<byte> destination, uint value)
    {
        int i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        destination[i++] = (byte)value;
        return i;
    }

    /// <summary>Reads one varint at <paramref name="offset"/> and advances it; throws on a value cut short or longer than 5 bytes.</summary>
    public static uint Read(ReadOnlySpan<byte> source, ref int offset)
    {
        uint value = 0;
        for (int shift = 0; shift < 35; shift += 7)
        {
            if (offset >= source.Length) throw new InvalidDataException("varint cut short");
            byte b = source[offset++];
            value |= (uint)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
        throw new InvalidDataException("varint longer than 5 bytes");
    }

    /// <summary>As <see cref="Read"/>, but false instead of throwing (validation of untrusted rows).</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, ref int offset, out uint value)
    {
        value = 0;
        for (int shift = 0; shift < 35; shift += 7)
        {
            if (offset >= source.Length) return false;
            byte b = source[offset++];
            value |= (uint)(b & 0x7F) << shift;
            if (b < 0x80) return true;
        }
        return false;
    }

    public static uint ZigZag(int value) => (uint)((value << 1) ^ (value >> 31));
    public static int UnZigZag(uint value) => (int)(value >> 1) ^ -(int)(value & 1);
}
