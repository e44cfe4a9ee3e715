using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GgufOptimize.Metrics;

/// <summary>Widens stored float16 logits to float32, exactly (every half value is representable as a float).</summary>
public static class HalfConversion
{
    /// <summary>Writes <paramref name="source"/>[i] as float into <paramref name="destination"/>[i].</summary>
    public static void ToSingle(ReadOnlySpan<Half> source, Span<float> destination)
    {
        if (destination.Length < source.Length)
            throw new ArgumentException($"destination holds {destination.Length} values, source has {source.Length}", nameof(destination));

        var bits = MemoryMarshal.Cast<Half, ushort>(source);
        var output = MemoryMarshal.Cast<float, uint>(destination);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= bits.Length - Vector256<ushort>.Count; i += Vector256<ushort>.Count)
            {
                var (lower, upper) = Vector256.Widen(Vector256.Create(bits.Slice(i, Vector256<ushort>.Count)));
                Widen(lower).CopyTo(output.Slice(i));
                Widen(upper).CopyTo(output.Slice(i + Vector256<uint>.Count));
            }
        }
        for (; i < bits.Length; i++)
            destination[i] = (float)source[i];
    }

    // Shifting the half's exponent+mantissa into float position and multiplying by 2^112 rebiases the exponent
    // (15 -> 127) and normalizes subnormals in one exact multiply; Inf/NaN only need their exponent forced to 255.
    private static Vector256<uint> Widen(Vector256<uint> h)
    {
        var sign = Vector256.ShiftLeft(h & Vector256.Create(0x8000u), 16);
        var magnitude = h & Vector256.Create(0x7FFFu);
        var shifted = Vector256.ShiftLeft(magnitude, 13);
        var finite = (shifted.AsSingle() * Vector256.Create(5.192296858534828e33f)).AsUInt32(); // 2^112
        var special = shifted | Vector256.Create(0x7F800000u);
        var isSpecial = Vector256.GreaterThanOrEqual(magnitude, Vector256.Create(0x7C00u));
        return Vector256.ConditionalSelect(isSpecial, special, finite) | sign;
    }
}
