using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GgufOptimize.Metrics;

/// <summary>
/// Compares a target logits row with one row of a llama.cpp <c>--kl-divergence-base</c> file: log P_i = scale·v_i + min
/// with v_i a uint16. Computed as llama-perplexity does, so its numbers can be checked against ours: the sum runs over
/// tokens whose dequantized log P exceeds −16 (the file cannot represent smaller ones: they are all stored as v = 0),
/// the baseline's top token is the first index of the largest v, and log P(next) is the dequantized value.
/// </summary>
internal static class QuantizedLogProbComparer
{
    /// <summary>llama.cpp drops baseline tokens with log P at or below this.</summary>
    public const float LogProbFloor = -16f;

    /// <summary>
    /// Whether the stored log P of <paramref name="token"/> is the row's floor rather than its value: it is stored as
    /// 0 and the row's range was cut to 16 nats (the top value maps to 65535, so scale · 65535 is the range).
    /// </summary>
    public static bool IsFloored(float scale, ReadOnlySpan<ushort> values, int token) =>
        values[token] == 0 && scale * ushort.MaxValue >= -LogProbFloor * (1 - 1e-5f);

    public static TokenComparison Compare(float scale, float minLogProb, ReadOnlySpan<ushort> values, ReadOnlySpan<float> target, int nextToken)
    {
        if (values.Length != target.Length)
            throw new ArgumentException($"baseline row has {values.Length} log-probabilities, target row has {target.Length} logits");
        if (nextToken < -1 || nextToken >= target.Length)
            throw new ArgumentOutOfRangeException(nameof(nextToken), nextToken, $"next token must be −1 or in [0, {target.Length})");
        var q = RowSoftmax.Stats(target);
        bool baseFinite = float.IsFinite(scale) && float.IsFinite(minLogProb);
        int topBase = baseFinite ? values.IndexOf(TensorPrimitives.Max(values)) : -1;
        if (!baseFinite || !q.Finite)
        {
            var status = (baseFinite ? RowStatus.Ok : RowStatus.BaselineNotFinite) | (q.Finite ? RowStatus.Ok : RowStatus.TargetNotFinite);
            return new TokenComparison(status, double.NaN, double.NaN, double.NaN, double.NaN, topBase, q.Finite ? q.ArgMax : -1);
        }
        double logNorm = q.Max + Math.Log(RowSoftmax.SumExp(target, q.Max));
        // Not clamped at 0: llama-perplexity does not clamp, and dropping the mass below the floor can make the sum
        // slightly negative; clamping moved Min and KLD_01 by up to 11 %.
        double kld = Sum(scale, minLogProb, values, target, logNorm);

        double logP = double.NaN, logQ = double.NaN, deltaP = double.NaN;
        if (nextToken >= 0)
        {
            logP = scale * values[nextToken] + minLogProb;
            logQ = target[nextToken] - logNorm;
            deltaP = Math.Exp(logQ) - Math.Exp(logP);
        }
        return new TokenComparison(RowStatus.Ok, kld, logP, logQ, deltaP, topBase, q.ArgMax);
    }

    /// <summary>Σ over log P_i &gt; −16 of P_i (log P_i − (q_i − logNorm)), 8 tokens per step.</summary>
    private static double Sum(float scale, float minLogProb, ReadOnlySpan<ushort> values, ReadOnlySpan<float> target, double logNorm)
    {
        ref ushort v = ref MemoryMarshal.GetReference(values);
        ref float t = ref MemoryMarshal.GetReference(target);
        int n = values.Length, i = 0;
        var s = Vector256.Create(scale);
        var m = Vector256.Create(minLogProb);
        var floor = Vector256.Create(LogProbFloor);
        var norm = Vector256.Create(logNorm);
        var acc0 = Vector256<double>.Zero;
        var acc1 = acc0;
        for (; i <= n - 8; i += 8)
        {
            var raw = Vector128.LoadUnsafe(ref v, (nuint)i);
            var (lo16, hi16) = Vector128.Widen(raw);
            var ints = Vector256.Create(lo16, hi16).AsInt32();
            var logP = Vector256.ConvertToSingle(ints) * s + m;
            var keep = Vector256.GreaterThan(logP, floor);
            if (keep == Vector256<float>.Zero) continue;
            var (pLo, pHi) = Vector256.Widen(logP);
            var (qLo, qHi) = Vector256.Widen(Vector256.LoadUnsafe(ref t, (nuint)i));
            var (kLo, kHi) = Vector256.Widen(keep.AsInt32());
            // Dropped lanes are clamped to 0 before exp so no overflow reaches the masked-out term.
            var eLo = VectorExp.ExpNonPositive(Vector256.Min(pLo, Vector256<double>.Zero));
            var eHi = VectorExp.ExpNonPositive(Vector256.Min(pHi, Vector256<double>.Zero));
            acc0 += (eLo * (pLo - (qLo - norm))) & kLo.AsDouble();
            acc1 += (eHi * (pHi - (qHi - norm))) & kHi.AsDouble();
        }
        double sum = Vector256.Sum(acc0 + acc1);
        for (; i < n; i++)
        {
            float logP = scale * values[i] + minLogProb;
            if (logP > LogProbFloor) sum += Math.Exp(logP) * (logP - (target[i] - logNorm));
        }
        return sum;
    }
}
