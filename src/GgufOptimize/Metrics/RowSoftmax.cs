using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GgufOptimize.Metrics;

/// <summary>Max, first argmax and finiteness of one logits row.</summary>
internal readonly record struct RowStats(float Max, int ArgMax, bool Finite);

/// <summary>
/// Vectorized pieces of a log-softmax over one logits row, for the kernels that compare a target row with a stored
/// baseline that is not a full row (compact top-k + tail, llama.cpp's quantized log-probabilities).
/// </summary>
internal static class RowSoftmax
{
    /// <summary>Max, first index of the max and whether every value is finite.</summary>
    public static RowStats Stats(ReadOnlySpan<float> row)
    {
        if (row.IsEmpty) throw new ArgumentException("logits row is empty");
        ref float start = ref MemoryMarshal.GetReference(row);
        int n = row.Length, i = 0;
        var expMask = Vector256.Create(0x7F800000u);
        var bad = Vector256<uint>.Zero;
        var max = Vector256.Create(float.NegativeInfinity);
        for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            var v = Vector256.LoadUnsafe(ref start, (nuint)i);
            bad |= Vector256.Equals(v.AsUInt32() & expMask, expMask);
            max = Vector256.Max(max, v);
        }
        bool finite = bad == Vector256<uint>.Zero;
        float best = float.NegativeInfinity;
        for (int k = 0; k < Vector256<float>.Count; k++) best = Math.Max(best, max[k]);
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref start, i);
            if ((BitConverter.SingleToUInt32Bits(v) & 0x7F800000u) == 0x7F800000u) finite = false;
            else if (v > best) best = v;
        }
        if (!finite) return new RowStats(float.NaN, -1, false);
        return new RowStats(best, row.IndexOf(best), true);
    }

    /// <summary>Σ e^(x_i − shift) in double; <paramref name="shift"/> must be ≥ every x_i (−∞ entries add 0).</summary>
    /// <remarks>Optimized from the first call (the exp is inlined only then; see <see cref="LogitComparer"/>).</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double SumExp(ReadOnlySpan<float> row, float shift)
    {
        ref float x = ref MemoryMarshal.GetReference(row);
        int n = row.Length, i = 0;
        double sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var s = Vector512.Create((double)shift);
            var acc = Vector512<double>.Zero;
            for (; i <= n - 16; i += 16)
            {
                var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref x, (nuint)i));
                acc += VectorExp.ExpNonPositive(lo - s) + VectorExp.ExpNonPositive(hi - s);
            }
            sum = Vector512.Sum(acc);
        }
        var s8 = Vector256.Create((double)shift);
        var a0 = Vector256<double>.Zero;
        var a1 = a0;
        for (; i <= n - 8; i += 8)
        {
            var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref x, (nuint)i));
            a0 += VectorExp.ExpNonPositive(lo - s8);
            a1 += VectorExp.ExpNonPositive(hi - s8);
        }
        sum += Vector256.Sum(a0 + a1);
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref x, i);
            if (v != float.NegativeInfinity) sum += Math.Exp((double)v - shift);
        }
        return sum;
    }

    /// <summary>
    /// Σ e^(x_i − shift) split at <paramref name="cutoff"/>: (sum over all, sum over x_i &lt; cutoff), in one pass.
    /// </summary>
    public static (double All, double Below) SumExpSplit(ReadOnlySpan<float> row, float shift, float cutoff)
    {
        ref float x = ref MemoryMarshal.GetReference(row);
        int n = row.Length, i = 0;
        double all = 0, below = 0;
        var s8 = Vector256.Create((double)shift);
        var c8 = Vector256.Create((double)cutoff);
        var a0 = Vector256<double>.Zero;
        var a1 = a0; var b0 = a0; var b1 = a0;
        for (; i <= n - 8; i += 8)
        {
            var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref x, (nuint)i));
            var e0 = VectorExp.ExpNonPositive(lo - s8);
            var e1 = VectorExp.ExpNonPositive(hi - s8);
            a0 += e0;
            a1 += e1;
            b0 += e0 & Vector256.LessThan(lo, c8);
            b1 += e1 & Vector256.LessThan(hi, c8);
        }
        all = Vector256.Sum(a0 + a1);
        below = Vector256.Sum(b0 + b1);
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref x, i);
            double e = Math.Exp((double)v - shift);
            all += e;
            if (v < cutoff) below += e;
        }
        return (all, below);
    }
}
