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
