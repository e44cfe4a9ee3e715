using System.Numerics;

namespace GgufOptimize.Storage.Hdf5.Format;

/// <summary>Bob Jenkins' lookup3 "hashlittle" (byte-wise, initval 0) — the checksum of HDF5 v2 metadata structures.</summary>
internal static class Lookup3
{
    public static uint Hash(ReadOnlySpan<byte> data, uint initValue = 0)
    {
        uint a, b, c;
        a = b = c = 0xdeadbeef + (uint)data.Length + initValue;
        int length = data.Length;
        int p = 0;
        while (length > 12)
        {
            a += Word(data, p);
            b += Word(data, p + 4);
            c += Word(data, p + 8);
            Mix(ref a, ref b, ref c);
            length -= 12;
            p += 12;
        }
        if (length == 0) return c;
        // The tail adds its bytes little-endian into a, b, c; missing bytes count as zero.
        Span<byte> tail = stackalloc byte[12];
        tail.Clear();
        data.Slice(p, length).CopyTo(tail);
        a += Word(tail, 0);
        b += Word(tail, 4);
        c += Word(tail, 8);
        Final(ref a, ref b, ref c);
        return c;
    }

    private static uint Word(ReadOnlySpan<byte> d, int i) =>
        d[i] | ((uint)d[i + 1] << 8) | ((uint)d[i + 2] << 16) | ((uint)d[i + 3] << 24);

    private static void Mix(ref uint a, ref uint b, ref uint c)
    {
        a -= c; a ^= BitOperations.RotateLeft(c, 4); c += b;
        b -= a; b ^= BitOperations.RotateLeft(a, 6); a += c;
        c -= b; c ^= BitOperations.RotateLeft(b, 8); b += a;
        a -= c; a ^= BitOperations.RotateLeft(c, 16); c += b;
        b -= a; b ^= BitOperations.RotateLeft(a, 19); a += c;
        c -= b; c ^= BitOperations.RotateLeft(b, 4); b += a;
    }

    private static void Final(ref uint a, ref uint b, ref uint c)
    {
        c ^= b; c -= BitOperations.RotateLeft(b, 14);
        a ^= c; a -= BitOperations.RotateLeft(c, 11);
        b ^= a; b -= BitOperations.RotateLeft(a, 25);
        c ^= b; c -= BitOperations.RotateLeft(b, 16);
        a ^= c; a -= BitOperations.RotateLeft(c, 4);
        b ^= a; b -= BitOperations.RotateLeft(a, 14);
        c ^= b; c -= BitOperations.RotateLeft(b, 24);
    }
}
