using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using System.Text;

namespace GgufOptimize.Datasets.Selection;

/// <summary>
/// Turns a raw text into the form that is filtered, hashed and written: trimmed, line endings as LF, UTF-8 encoded
/// into a reused buffer; counts code points and hashes seed + bytes with SHA-256 (128 bits kept).
/// </summary>
internal sealed class PreparedText(long seed)
{
    private byte[] _buffer = new byte[8 + 4096];

    public string Text { get; private set; } = "";
    public ReadOnlySpan<byte> Utf8 => _buffer.AsSpan(8, ByteLength);
    public int ByteLength { get; private set; }
    /// <summary>Unicode code points, the unit of <c>--min-chars</c>, <c>--max-chars</c> and manifest character counts.</summary>
    public int Chars { get; private set; }

    /// <summary>Returns false when nothing but whitespace is left.</summary>
    public bool Prepare(string raw)
    {
        string text = raw.Contains('\r') ? raw.Replace("\r\n", "\n").Replace('\r', '\n') : raw;
        text = text.Trim();
        Text = text;
        if (text.Length == 0) return false;
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (_buffer.Length < 8 + max) _buffer = new byte[8 + Math.Max(max, _buffer.Length * 2)];
        ByteLength = Encoding.UTF8.GetBytes(text, _buffer.AsSpan(8));
        Chars = CountCodePoints(Utf8);
        return true;
    }

    /// <summary>The seeded identity and shuffle rank of the prepared text: equal texts get equal hashes.</summary>
    public UInt128 Hash()
    {
        BinaryPrimitives.WriteInt64LittleEndian(_buffer, seed);
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(_buffer.AsSpan(0, 8 + ByteLength), digest);
        return new UInt128(BinaryPrimitives.ReadUInt64BigEndian(digest), BinaryPrimitives.ReadUInt64BigEndian(digest[8..]));
    }

    public static int CountCodePoints(ReadOnlySpan<byte> utf8)
    {
        // Every code point has exactly one byte that is not a continuation byte (10xxxxxx, i.e. below -64 as sbyte).
        int continuation = 0, i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var limit = Vector256.Create((sbyte)-64);
            ref byte start = ref MemoryMarshal.GetReference(utf8);
            for (; i + Vector256<byte>.Count <= utf8.Length; i += Vector256<byte>.Count)
            {
                var bytes = Vector256.LoadUnsafe(ref start, (nuint)i).AsSByte();
                continuation += BitOperations.PopCount(Vector256.LessThan(bytes, limit).ExtractMostSignificantBits());
            }
        }
        for (; i < utf8.Length; i++)
            if ((utf8[i] & 0xC0) == 0x80) continuation++;
        return utf8.Length - continuation;
    }
}
