using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using GgufOptimize.Metrics;

namespace GgufOptimize.Storage.Formats.LlamaCpp;

/// <summary>
/// One logits row to llama-perplexity's stored form, with its formulas: min is raised to max − 16, log P of the min is
/// min − max − log Σ e^(x − max), scale = (max − min)/65535, v_i = round-to-nearest-even((x_i − min)/scale) for x_i &gt; min
/// and 0 otherwise. (The sum of exponentials is taken in double here; llama.cpp adds float exps in double, so the
/// stored min log-prob may differ from its file in the last float bit.)
/// Every pass is vectorized (this runs once per stored row, n_vocab values each); the vector and scalar paths compute
/// the same float operations in the same order, so the bytes do not depend on the instruction set.
/// </summary>
internal static class LlamaCppRowQuantizer
{
    /// <param name="output">RowUInt16s values: scale and min as two floats, then the n_vocab values, then padding.</param>
    /// <remarks>Compiled optimized from the first call: a run stores a few thousand rows, too few for tiering to reach
    /// these loops before much of the work is done unoptimized.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Quantize(ReadOnlySpan<float> logits, Span<ushort> output)
    {
        int n = logits.Length;
        var (max, min) = MaxMin(logits);
        min = Math.Max(min, max - 16);
        float logSumExp = (float)Math.Log(RowSoftmax.SumExp(logits, max));
        float minLogProb = min - max - logSumExp;
        float scale = (max - min) / 65535f;
        var head = MemoryMarshal.Cast<ushort, float>(output[..4]);
        head[0] = scale;
        head[1] = minLogProb;
        var values = output.Slice(4, n);
        if (scale != 0) Levels(logits, min, 1 / scale, values);
        else values.Clear();
        output[(4 + n)..].Clear();
    }

    /// <summary>
    /// <see cref="TensorPrimitives.Max(ReadOnlySpan{float})"/> and <see cref="TensorPrimitives.Min(ReadOnlySpan{float})"/>
    /// of the row in one pass (the first read of the row, from memory), with the hardware's max/min per lane. Those
    /// agree with the IEEE ones except for NaN and the sign of a zero, so a row whose max or min is ±0, or that holds
    /// a NaN (seen as |x| bits above +∞'s), is given the library's two passes: the bytes are the same either way.
    /// </summary>
    private static (float Max, float Min) MaxMin(ReadOnlySpan<float> row)
    {
        ref float x = ref MemoryMarshal.GetReference(row);
        int n = row.Length, i = 0;
        float max = float.NegativeInfinity, min = float.PositiveInfinity;
        uint abs = 0;
        if (Vector512.IsHardwareAccelerated && n >= 32)
        {
            var max0 = Vector512.Create(float.NegativeInfinity); var max1 = max0;
            var min0 = Vector512.Create(float.PositiveInfinity); var min1 = min0;
            var bits = Vector512<uint>.Zero;
            var mask = Vector512.Create(0x7FFFFFFFu);
            for (; i <= n - 32; i += 32)
            {
                var v0 = Vector512.LoadUnsafe(ref x, (nuint)i);
                var v1 = Vector512.LoadUnsafe(ref x, (nuint)(i + 16));
                max0 = Vector512.MaxNative(max0, v0); max1 = Vector512.MaxNative(max1, v1);
                min0 = Vector512.MinNative(min0, v0); min1 = Vector512.MinNative(min1, v1);
                bits = Vector512.Max(bits, Vector512.Max(v0.AsUInt32() & mask, v1.AsUInt32() & mask));
            }
            var maxes = Vector512.MaxNative(max0, max1);
            var mins = Vector512.MinNative(min0, min1);
            for (int k = 0; k < Vector512<float>.Count; k++)
            {
                max = MathF.Max(max, maxes[k]);
                min = MathF.Min(min, mins[k]);
                abs = Math.Max(abs, bits[k]);
            }
        }
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref x, i);
            max = MathF.Max(max, v);
            min = MathF.Min(min, v);
            abs = Math.Max(abs, BitConverter.SingleToUInt32Bits(v) & 0x7FFFFFFFu);
        }
        return abs > 0x7F800000u || max == 0 || min == 0 ? (TensorPrimitives.Max(row), TensorPrimitives.Min(row)) : (max, min);
    }

    /// <summary>v_i = x_i &gt; min ? min(65535, round-to-even(inverse · (x_i − min))) : 0.</summary>
    private static void Levels(ReadOnlySpan<float> logits, float min, float inverse, Span<ushort> values)
    {
        int n = logits.Length, i = 0;
        ref float x = ref MemoryMarshal.GetReference(logits);
        ref ushort v = ref MemoryMarshal.GetReference(values);
        if (Vector512.IsHardwareAccelerated)
        {
            var vMin = Vector512.Create(min);
            var vInverse = Vector512.Create(inverse);
            var top = Vector512.Create(65535f);
            for (; i <= n - 32; i += 32)
            {
                var lo = Level(Vector512.LoadUnsafe(ref x, (nuint)i), vMin, vInverse, top);
                var hi = Level(Vector512.LoadUnsafe(ref x, (nuint)i + 16), vMin, vInverse, top);
                Vector512.Narrow(lo, hi).StoreUnsafe(ref v, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var vMin = Vector256.Create(min);
            var vInverse = Vector256.Create(inverse);
            var top = Vector256.Create(65535f);
            for (; i <= n - 16; i += 16)
            {
                var lo = Level(Vector256.LoadUnsafe(ref x, (nuint)i), vMin, vInverse, top);
                var hi = Level(Vector256.LoadUnsafe(ref x, (nuint)i + 8), vMin, vInverse, top);
                // Every level is in [0, 65535]: narrowing keeps it exactly.
                Vector256.Narrow(lo, hi).StoreUnsafe(ref v, (nuint)i);
            }
        }
        for (; i < n; i++)
            values[i] = logits[i] > min ? (ushort)Math.Min(65535f, MathF.Round(inverse * (logits[i] - min), MidpointRounding.ToEven)) : (ushort)0;
    }

    private static Vector512<uint> Level(Vector512<float> x, Vector512<float> min, Vector512<float> inverse, Vector512<float> top)
    {
        var level = Vector512.ConvertToUInt32(Vector512.Min(top, Vector512.Round(inverse * (x - min))));
        return Vector512.GreaterThan(x, min).AsUInt32() & level;
    }

    private static Vector256<uint> Level(Vector256<float> x, Vector256<float> min, Vector256<float> inverse, Vector256<float> top)
    {
        var level = Vector256.ConvertToUInt32(Vector256.Min(top, Vector256.Round(inverse * (x - min))));
        return Vector256.GreaterThan(x, min).AsUInt32() & level;
    }
}
