using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace GgufOptimize.Common;

/// <summary>
/// Conversions between float32 and the 16-bit float formats stored in our files and in ggml tensors (IEEE half and
/// bfloat16). Half → float is exact (every half is a float); TensorPrimitives vectorizes it.
/// </summary>
internal static class HalfConversion
{
    /// <summary>Writes <paramref name="source"/>[i] as float into <paramref name="destination"/>[i].</summary>
    public static void ToSingle(ReadOnlySpan<Half> source, Span<float> destination)
    {
        if (destination.Length < source.Length)
            throw new ArgumentException($"destination holds {destination.Length} values, source has {source.Length}", nameof(destination));
        TensorPrimitives.ConvertToSingle(source, destination[..source.Length]);
    }

    public static void F16ToF32(ReadOnlySpan<ushort> source, Span<float> destination) =>
        ToSingle(MemoryMarshal.Cast<ushort, Half>(source), destination);

    public static void F32ToF16(ReadOnlySpan<float> source, Span<ushort> destination) =>
        TensorPrimitives.ConvertToHalf(source, MemoryMarshal.Cast<ushort, Half>(destination));

    /// <summary>bfloat16 is the top half of an F32, so widening is a shift.</summary>
    public static void BF16ToF32(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        var bits = MemoryMarshal.Cast<float, uint>(destination);
        for (int i = 0; i < source.Length; i++) bits[i] = (uint)source[i] << 16;
    }

    /// <summary>Rounds to nearest even like ggml's GGML_FP32_TO_BF16; NaNs stay quiet NaNs.</summary>
    public static void F32ToBF16(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        var bits = MemoryMarshal.Cast<float, uint>(source);
        for (int i = 0; i < bits.Length; i++)
        {
            uint u = bits[i];
            destination[i] = (u & 0x7fffffff) > 0x7f800000 ? (ushort)((u >> 16) | 64) : (ushort)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
        }
    }
}
