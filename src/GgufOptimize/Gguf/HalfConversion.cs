using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace GgufOptimize.Gguf;

/// <summary>Conversions between F32 and the 16-bit float formats ggml stores (IEEE half and bfloat16).</summary>
public static class HalfConversion
{
    public static void F16ToF32(ReadOnlySpan<ushort> source, Span<float> destination) =>
        TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<ushort, Half>(source), destination);

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
