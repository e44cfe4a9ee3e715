using System.Numerics.Tensors;
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
    public static void Quantize(ReadOnlySpan<float> logits, Span<ushort> output)
    {
        int n = logits.Length;
        float max = TensorPrimitives.Max(logits), min = TensorPrimitives.Min(logits);
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

    /// <summary>v_i = x_i &gt; min ? min(65535, round-to-even(inverse · (x_i − min))) : 0.</summary>
    private static void Levels(ReadOnlySpan<float> logits, float min, float inverse, Span<ushort> values)
    {
        int n = logits.Length, i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vMin = Vector256.Create(min);
            var vInverse = Vector256.Create(inverse);
            var top = Vector256.Create(65535f);
            ref float x = ref MemoryMarshal.GetReference(logits);
            ref ushort v = ref MemoryMarshal.GetReference(values);
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

    private static Vector256<uint> Level(Vector256<float> x, Vector256<float> min, Vector256<float> inverse, Vector256<float> top)
    {
        var level = Vector256.ConvertToUInt32(Vector256.Min(top, Vector256.Round(inverse * (x - min))));
        return Vector256.GreaterThan(x, min).AsUInt32() & level;
    }
}
