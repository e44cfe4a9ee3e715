namespace GgufOptimize.Storage.Hdf5.Filters;

/// <summary>
/// Decompressor for liblzf's format (the payload of h5py's "lzf" HDF5 filter). The stream is a sequence of
/// instructions, each starting with a control byte c:
/// c &lt; 32: a literal run, the next c + 1 bytes are copied as they are;
/// otherwise a back-reference: length field L = c &gt;&gt; 5 (7 means "7 plus the next byte"), then one more byte b;
/// the match starts (c &amp; 31) · 256 + b + 1 bytes before the current output end and is L + 2 bytes long. A match may
/// overlap the bytes it produces (a run), so it is copied byte by byte in order.
/// </summary>
internal static class Lzf
{
    private const int MaxLiteralRun = 32;
    private const int MinMatch = 3;
    /// <summary>Length field 7 + one extra byte of up to 255, plus the implicit 2.</summary>
    private const int MaxMatch = 7 + 255 + 2;
    /// <summary>13 offset bits (5 in the control byte, 8 in the next) hold distance − 1.</summary>
    private const int MaxDistance = 1 << 13;
    private const int HashBits = 14;

    /// <summary>
    /// Longest possible output of <see cref="Compress"/> for <paramref name="length"/> input bytes: incompressible data
    /// costs one control byte per literal run of 32.
    /// </summary>
    public static int MaxCompressedLength(int length) => length + (length + MaxLiteralRun - 1) / MaxLiteralRun;

    /// <summary>
    /// Compresses <paramref name="input"/> into the format <see cref="Decompress"/> reads (and liblzf's lzf_decompress).
    /// Greedy matching over a hash of the next three bytes, one candidate per hash slot: the same trade of speed for
    /// ratio liblzf makes, which suits a filter whose data (float logits) mostly does not compress anyway.
    /// </summary>
    public static byte[] Compress(ReadOnlySpan<byte> input)
    {
        var output = new byte[MaxCompressedLength(input.Length)];
        var table = new int[1 << HashBits]; // position + 1 of the last occurrence of each hash; 0 = none
        int i = 0, o = 0, literalStart = 0;
        while (i + MinMatch <= input.Length)
        {
            int h = Hash(input[i], input[i + 1], input[i + 2]);
            int candidate = table[h] - 1;
            table[h] = i + 1;
            int distance = i - candidate;
            if (candidate < 0 || distance > MaxDistance
                || input[candidate] != input[i] || input[candidate + 1] != input[i + 1] || input[candidate + 2] != input[i + 2])
            {
                i++;
                continue;
            }
            int length = MinMatch, limit = Math.Min(MaxMatch, input.Length - i);
            while (length < limit && input[candidate + length] == input[i + length]) length++;
            o = WriteLiterals(input[literalStart..i], output, o);
            int offset = distance - 1, field = length - 2;
            if (field < 7) output[o++] = (byte)((field << 5) | (offset >> 8));
            else
            {
                output[o++] = (byte)((7 << 5) | (offset >> 8));
                output[o++] = (byte)(field - 7);
            }
            output[o++] = (byte)offset;
            i += length;
            literalStart = i;
        }
        o = WriteLiterals(input[literalStart..], output, o);
        return output[..o];
    }

    private static int Hash(byte a, byte b, byte c) => (int)((uint)((a << 16) | (b << 8) | c) * 2654435761u >> (32 - HashBits));

    private static int WriteLiterals(ReadOnlySpan<byte> literals, byte[] output, int o)
    {
        while (literals.Length > 0)
        {
            int run = Math.Min(MaxLiteralRun, literals.Length);
            output[o++] = (byte)(run - 1);
            literals[..run].CopyTo(output.AsSpan(o));
            o += run;
            literals = literals[run..];
        }
        return o;
    }

    /// <summary>The number of bytes <paramref name="input"/> decompresses to (one pass over the control bytes; checks the structure).</summary>
    public static int DecompressedLength(ReadOnlySpan<byte> input)
    {
        long i = 0, o = 0;
        while (i < input.Length)
        {
            int control = input[(int)i++];
            if (control < 32)
            {
                i += control + 1;
                o += control + 1;
                if (i > input.Length) throw new InvalidDataException($"LZF: literal run of {control + 1} bytes is cut short");
                continue;
            }
            int length = control >> 5;
            if (length == 7)
            {
                if (i >= input.Length) throw new InvalidDataException("LZF: back-reference length is cut short");
                length += input[(int)i++];
            }
            if (i >= input.Length) throw new InvalidDataException("LZF: back-reference offset is cut short");
            long from = o - ((control & 31) << 8) - input[(int)i++] - 1;
            if (from < 0) throw new InvalidDataException($"LZF: back-reference to {-from} bytes before the start of the output");
            o += length + 2;
        }
        if (o > Array.MaxLength) throw new InvalidDataException($"LZF: {o} bytes do not fit one buffer");
        return (int)o;
    }

    /// <summary>
    /// Decompresses <paramref name="input"/> into <paramref name="output"/> and returns the bytes written; throws
    /// <see cref="InvalidDataException"/> for a stream that is truncated, points before the start of the output or
    /// would not fit.
    /// </summary>
    public static int Decompress(ReadOnlySpan<byte> input, Span<byte> output)
    {
        int i = 0, o = 0;
        while (i < input.Length)
        {
            int control = input[i++];
            if (control < 32)
            {
                int run = control + 1;
                if (i + run > input.Length) throw new InvalidDataException($"LZF: literal run of {run} bytes at input offset {i - 1} is cut short");
                if (o + run > output.Length) throw new InvalidDataException($"LZF: output larger than the expected {output.Length} bytes");
                input.Slice(i, run).CopyTo(output[o..]);
                i += run;
                o += run;
                continue;
            }
            int length = control >> 5;
            if (length == 7)
            {
                if (i >= input.Length) throw new InvalidDataException("LZF: back-reference length is cut short");
                length += input[i++];
            }
            if (i >= input.Length) throw new InvalidDataException("LZF: back-reference offset is cut short");
            int from = o - ((control & 31) << 8) - input[i++] - 1;
            length += 2;
            if (from < 0) throw new InvalidDataException($"LZF: back-reference to {-from} bytes before the start of the output");
            if (o + length > output.Length) throw new InvalidDataException($"LZF: output larger than the expected {output.Length} bytes");
            for (int k = 0; k < length; k++) output[o + k] = output[from + k];
            o += length;
        }
        return o;
    }
}
