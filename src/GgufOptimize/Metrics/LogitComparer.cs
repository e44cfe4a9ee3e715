using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GgufOptimize.Metrics;

/// <summary>
/// Compares one baseline logits row with one target logits row: exact KL divergence, next-token log-probabilities,
/// Δp and top-1 agreement, in two vectorized passes over each row.
/// </summary>
/// <remarks>
/// Pass 1 finds each row's max and non-finite values (both rows at once), then the first index of each max. Pass 2
/// accumulates, in double, with u_i = p_i − max p and v_i = q_i − max q: S_P = Σ e^{u_i}, S_Q = Σ e^{v_i}, T = Σ e^{u_i}(u_i − v_i). Then
/// KL = Σ P_i((u_i − ln S_P) − (v_i − ln S_Q)) = T/S_P + ln(S_Q/S_P), the log-space form: no probability is
/// clipped, a P_i that underflows to 0 contributes exactly 0, and Q_i = 0 is fine because log Q_i is never formed
/// from Q_i. Rounding can push a true KL of ~0 to −1e-17; such results are returned as 0.
/// </remarks>
internal static class LogitComparer
{
    /// <summary>Compares float32 rows; <paramref name="nextToken"/> is the id of the actual next token or −1.</summary>
    public static TokenComparison Compare(ReadOnlySpan<float> baseline, ReadOnlySpan<float> target, int nextToken) =>
        Compare(baseline, target, nextToken, Vector512.IsHardwareAccelerated);

    /// <summary>
    /// <paramref name="wide"/> selects 512-bit vectors for the exp pass (47% faster on Zen 4 than 256-bit, fewer
    /// instructions per logit); the two widths sum in different orders, so results differ in the last bits.
    /// Tests call both widths explicitly.
    /// </summary>
    /// <remarks>
    /// The kernels are compiled optimized from the first call: unoptimized, the exp is a call per vector rather than
    /// inlined, and a run scores only a few thousand rows, so tiering would leave a visible share of them to slow code.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static TokenComparison Compare(ReadOnlySpan<float> baseline, ReadOnlySpan<float> target, int nextToken, bool wide)
    {
        if (baseline.Length != target.Length)
            throw new ArgumentException($"baseline row has {baseline.Length} logits, target row has {target.Length}");
        if (baseline.Length == 0)
            throw new ArgumentException("logits rows are empty");
        if (nextToken < -1 || nextToken >= baseline.Length)
            throw new ArgumentOutOfRangeException(nameof(nextToken), nextToken, $"next token must be −1 or in [0, {baseline.Length})");

        var scan = ScanPair(baseline, target);
        var status = (scan.FiniteP ? RowStatus.Ok : RowStatus.BaselineNotFinite) | (scan.FiniteQ ? RowStatus.Ok : RowStatus.TargetNotFinite);
        int topP = scan.FiniteP ? FirstIndexOf(baseline, scan.MaxP) : -1, topQ = scan.FiniteQ ? FirstIndexOf(target, scan.MaxQ) : -1;
        if (status != RowStatus.Ok)
            return new TokenComparison(status, double.NaN, double.NaN, double.NaN, double.NaN, topP, topQ);

        // The shift is the max as stored at its first index (of +0 and −0, the sign found there).
        float maxP = baseline[topP], maxQ = target[topQ];
        var (sumP, sumQ, cross) = Accumulate(baseline, target, maxP, maxQ, wide && Vector512.IsHardwareAccelerated);
        double kld = Math.Max(0.0, cross / sumP + Math.Log(sumQ / sumP));

        double logP = double.NaN, logQ = double.NaN, deltaP = double.NaN;
        if (nextToken >= 0)
        {
            logP = ((double)baseline[nextToken] - maxP) - Math.Log(sumP);
            logQ = ((double)target[nextToken] - maxQ) - Math.Log(sumQ);
            deltaP = Math.Exp(logQ) - Math.Exp(logP);
        }
        return new TokenComparison(RowStatus.Ok, kld, logP, logQ, deltaP, topP, topQ);
    }

    private readonly record struct PairScan(float MaxP, float MaxQ, bool FiniteP, bool FiniteQ);

    /// <summary>|x| as bits; a float is NaN or ±∞ exactly when this is at least <see cref="ExponentAllSet"/>.</summary>
    private const uint AbsMask = 0x7FFFFFFF, ExponentAllSet = 0x7F800000;

    /// <summary>
    /// Max of each row and whether each is finite, both rows in one pass (the first read of the rows, from memory):
    /// per lane a max and the largest |x| bits, nothing else, so the pass runs at the speed of the loads. The first
    /// index of the max is found afterwards (<see cref="FirstIndexOf"/>) in the rows then in cache. The max of a row
    /// holding NaN is meaningless, and never used.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static PairScan ScanPair(ReadOnlySpan<float> baseline, ReadOnlySpan<float> target)
    {
        ref float p = ref MemoryMarshal.GetReference(baseline);
        ref float q = ref MemoryMarshal.GetReference(target);
        int n = baseline.Length, i = 0;
        float maxP = float.NegativeInfinity, maxQ = float.NegativeInfinity;
        uint absP = 0, absQ = 0;
        if (Vector512.IsHardwareAccelerated && n >= 32)
        {
            var mp0 = Vector512.Create(float.NegativeInfinity);
            var mp1 = mp0; var mq0 = mp0; var mq1 = mp0;
            var ap = Vector512<uint>.Zero; var aq = ap;
            var mask = Vector512.Create(AbsMask);
            for (; i <= n - 32; i += 32)
            {
                var p0 = Vector512.LoadUnsafe(ref p, (nuint)i); var p1 = Vector512.LoadUnsafe(ref p, (nuint)(i + 16));
                var q0 = Vector512.LoadUnsafe(ref q, (nuint)i); var q1 = Vector512.LoadUnsafe(ref q, (nuint)(i + 16));
                mp0 = Vector512.MaxNative(mp0, p0); mp1 = Vector512.MaxNative(mp1, p1);
                mq0 = Vector512.MaxNative(mq0, q0); mq1 = Vector512.MaxNative(mq1, q1);
                ap = Vector512.Max(ap, Vector512.Max(p0.AsUInt32() & mask, p1.AsUInt32() & mask));
                aq = Vector512.Max(aq, Vector512.Max(q0.AsUInt32() & mask, q1.AsUInt32() & mask));
            }
            var mp = Vector512.MaxNative(mp0, mp1); var mq = Vector512.MaxNative(mq0, mq1);
            for (int k = 0; k < Vector512<float>.Count; k++)
            {
                maxP = MathF.Max(maxP, mp[k]); maxQ = MathF.Max(maxQ, mq[k]);
                absP = Math.Max(absP, ap[k]); absQ = Math.Max(absQ, aq[k]);
            }
        }
        else if (Vector256.IsHardwareAccelerated && n >= 16)
        {
            var mp0 = Vector256.Create(float.NegativeInfinity);
            var mp1 = mp0; var mq0 = mp0; var mq1 = mp0;
            var ap = Vector256<uint>.Zero; var aq = ap;
            var mask = Vector256.Create(AbsMask);
            for (; i <= n - 16; i += 16)
            {
                var p0 = Vector256.LoadUnsafe(ref p, (nuint)i); var p1 = Vector256.LoadUnsafe(ref p, (nuint)(i + 8));
                var q0 = Vector256.LoadUnsafe(ref q, (nuint)i); var q1 = Vector256.LoadUnsafe(ref q, (nuint)(i + 8));
                mp0 = Vector256.MaxNative(mp0, p0); mp1 = Vector256.MaxNative(mp1, p1);
                mq0 = Vector256.MaxNative(mq0, q0); mq1 = Vector256.MaxNative(mq1, q1);
                ap = Vector256.Max(ap, Vector256.Max(p0.AsUInt32() & mask, p1.AsUInt32() & mask));
                aq = Vector256.Max(aq, Vector256.Max(q0.AsUInt32() & mask, q1.AsUInt32() & mask));
            }
            var mp = Vector256.MaxNative(mp0, mp1); var mq = Vector256.MaxNative(mq0, mq1);
            for (int k = 0; k < Vector256<float>.Count; k++)
            {
                maxP = MathF.Max(maxP, mp[k]); maxQ = MathF.Max(maxQ, mq[k]);
                absP = Math.Max(absP, ap[k]); absQ = Math.Max(absQ, aq[k]);
            }
        }
        for (; i < n; i++)
        {
            float a = Unsafe.Add(ref p, i), b = Unsafe.Add(ref q, i);
            maxP = MathF.Max(maxP, a); maxQ = MathF.Max(maxQ, b);
            absP = Math.Max(absP, BitConverter.SingleToUInt32Bits(a) & AbsMask);
            absQ = Math.Max(absQ, BitConverter.SingleToUInt32Bits(b) & AbsMask);
        }
        return new PairScan(maxP, maxQ, absP < ExponentAllSet, absQ < ExponentAllSet);
    }

    /// <summary>The first index holding <paramref name="max"/> (compared as numbers: +0 and −0 are equal), which a finite row has.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int FirstIndexOf(ReadOnlySpan<float> row, float max)
    {
        ref float x = ref MemoryMarshal.GetReference(row);
        int n = row.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var m = Vector512.Create(max);
            for (; i <= n - 16; i += 16)
            {
                ulong hits = Vector512.Equals(Vector512.LoadUnsafe(ref x, (nuint)i), m).ExtractMostSignificantBits();
                if (hits != 0) return i + BitOperations.TrailingZeroCount(hits);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var m = Vector256.Create(max);
            for (; i <= n - 8; i += 8)
            {
                uint hits = Vector256.Equals(Vector256.LoadUnsafe(ref x, (nuint)i), m).ExtractMostSignificantBits();
                if (hits != 0) return i + BitOperations.TrailingZeroCount(hits);
            }
        }
        for (; i < n; i++)
            if (Unsafe.Add(ref x, i) == max) return i;
        throw new InvalidOperationException("the row's max is not in the row");
    }

    /// <summary>S_P, S_Q and T of the remarks, in double: 16 logits of each row per step with AVX-512, else 8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (double SumP, double SumQ, double Cross) Accumulate(ReadOnlySpan<float> baseline, ReadOnlySpan<float> target, float maxP, float maxQ, bool wide)
    {
        ref float p = ref MemoryMarshal.GetReference(baseline);
        ref float q = ref MemoryMarshal.GetReference(target);
        int n = baseline.Length;
        int i = 0;
        double sumP = 0, sumQ = 0, cross = 0;
        if (wide && n >= 16)
        {
            var mp = Vector512.Create((double)maxP);
            var mq = Vector512.Create((double)maxQ);
            var sp = Vector512<double>.Zero; var sq = sp; var t = sp;
            for (; i <= n - 16; i += 16)
            {
                var (pLow, pHigh) = Vector512.Widen(Vector512.LoadUnsafe(ref p, (nuint)i));
                var (qLow, qHigh) = Vector512.Widen(Vector512.LoadUnsafe(ref q, (nuint)i));
                var u0 = pLow - mp; var u1 = pHigh - mp;
                var v0 = qLow - mq; var v1 = qHigh - mq;
                var e0 = VectorExp.ExpNonPositive(u0); var e1 = VectorExp.ExpNonPositive(u1);
                sp += e0 + e1;
                sq += VectorExp.ExpNonPositive(v0) + VectorExp.ExpNonPositive(v1);
                t = Vector512.FusedMultiplyAdd(e0, u0 - v0, Vector512.FusedMultiplyAdd(e1, u1 - v1, t));
            }
            sumP = Vector512.Sum(sp);
            sumQ = Vector512.Sum(sq);
            cross = Vector512.Sum(t);
        }

        var mp8 = Vector256.Create((double)maxP);
        var mq8 = Vector256.Create((double)maxQ);
        var sp0 = Vector256<double>.Zero; var sp1 = sp0;
        var sq0 = sp0; var sq1 = sp0;
        var t0 = sp0; var t1 = sp0;
        for (; i <= n - 8; i += 8)
        {
            Step(Vector256.LoadUnsafe(ref p, (nuint)i), Vector256.LoadUnsafe(ref q, (nuint)i), mp8, mq8,
                ref sp0, ref sp1, ref sq0, ref sq1, ref t0, ref t1);
        }
        if (i < n)
        {
            // Pad the tail with the lowest float: its e^u is exactly 0, so it adds nothing to any sum.
            Span<float> tailP = stackalloc float[8];
            Span<float> tailQ = stackalloc float[8];
            tailP.Fill(float.MinValue);
            tailQ.Fill(float.MinValue);
            baseline[i..].CopyTo(tailP);
            target[i..].CopyTo(tailQ);
            Step(Vector256.Create<float>(tailP), Vector256.Create<float>(tailQ), mp8, mq8,
                ref sp0, ref sp1, ref sq0, ref sq1, ref t0, ref t1);
        }
        return (sumP + Vector256.Sum(sp0 + sp1), sumQ + Vector256.Sum(sq0 + sq1), cross + Vector256.Sum(t0 + t1));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(Vector256<float> pv, Vector256<float> qv, Vector256<double> mp, Vector256<double> mq,
        ref Vector256<double> sp0, ref Vector256<double> sp1, ref Vector256<double> sq0, ref Vector256<double> sq1,
        ref Vector256<double> t0, ref Vector256<double> t1)
    {
        var (pLow, pHigh) = Vector256.Widen(pv);
        var (qLow, qHigh) = Vector256.Widen(qv);
        var u0 = pLow - mp; var u1 = pHigh - mp;
        var v0 = qLow - mq; var v1 = qHigh - mq;
        var e0 = VectorExp.ExpNonPositive(u0); var e1 = VectorExp.ExpNonPositive(u1);
        sp0 += e0; sp1 += e1;
        sq0 += VectorExp.ExpNonPositive(v0); sq1 += VectorExp.ExpNonPositive(v1);
        t0 = Vector256.FusedMultiplyAdd(e0, u0 - v0, t0);
        t1 = Vector256.FusedMultiplyAdd(e1, u1 - v1, t1);
    }
}
