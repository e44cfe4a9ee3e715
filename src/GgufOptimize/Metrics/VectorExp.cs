using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GgufOptimize.Metrics;

/// <summary>
/// Vectorized e^x for x ≤ 0 in double precision, within 1 ulp of <see cref="Math.Exp(double)"/> (VectorExpTests
/// measures max relative error 2.2e-16 on [−708, 0]). The kernel needs it this accurate: KLD agreement of 1e-9
/// relative on values near 1e-6 needs the log-sum-exp right to ~1e-15 absolute, which a float32 exp (~1e-7) cannot give.
/// </summary>
/// <remarks>
/// Method: x = n·ln2 + r with |r| ≤ ln2/2 (n by the 1.5·2^52 rounding trick, r by two FMAs with ln2 split into a
/// double and its remainder), e^r by a degree-11 polynomial (a Chebyshev fit of exp on [−ln2/2, ln2/2] computed with
/// mpmath: truncation error 1.7e-17 relative, below rounding), times 2^n written straight into the exponent field.
/// Only the softmax domain is supported: x ≤ 0 or −∞ (not NaN, not positive). Results below about 2^−1022 are
/// flushed to +0 (x ≤ −709 exactly, and part of (−709, −708.4)); next to a row sum ≥ 1 they are invisible anyway.
/// </remarks>
internal static class VectorExp
{
    private const double Log2E = 1.4426950408889634;
    private const double Ln2Hi = 0.6931471805599453;
    private const double Ln2Lo = 2.3190468138462996e-17;
    private const double Shifter = 6755399441055744.0; // 1.5 * 2^52: adding it rounds to an integer kept in the low bits
    private const double FlushBelow = -709.0; // rounds to n = −1023, whose exponent field encodes 0.0
    private const long ExponentBias = 1023 - 0x4338000000000000; // 1023 minus the bit pattern of Shifter

    private const double C2 = 0.5000000000000019;
    private const double C3 = 0.1666666666666668;
    private const double C4 = 0.0416666666664881;
    private const double C5 = 0.008333333333319601;
    private const double C6 = 0.0013888888952314775;
    private const double C7 = 0.00019841269890047113;
    private const double C8 = 2.4801485482328494e-05;
    private const double C9 = 2.755724091857897e-06;
    private const double C10 = 2.763263963904103e-07;
    private const double C11 = 2.5110037605963777e-08;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> ExpNonPositive(Vector256<double> x)
    {
        var shifter = Vector256.Create(Shifter);
        x = Vector256.Max(x, Vector256.Create(FlushBelow));
        var t = Vector256.FusedMultiplyAdd(x, Vector256.Create(Log2E), shifter);
        var n = t - shifter;
        var r = Vector256.FusedMultiplyAdd(-n, Vector256.Create(Ln2Hi), x);
        r = Vector256.FusedMultiplyAdd(-n, Vector256.Create(Ln2Lo), r);

        var p = Vector256.FusedMultiplyAdd(Vector256.Create(C11), r, Vector256.Create(C10));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C9));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C8));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C7));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C6));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C5));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<double>.One);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<double>.One);

        // 2^n straight into the exponent field; n = −1023 (x ≤ −709) gives the bit pattern of +0.
        var scale = Vector256.ShiftLeft(t.AsInt64() + Vector256.Create(ExponentBias), 52).AsDouble();
        return p * scale;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> ExpNonPositive(Vector512<double> x)
    {
        var shifter = Vector512.Create(Shifter);
        x = Vector512.Max(x, Vector512.Create(FlushBelow));
        var t = Vector512.FusedMultiplyAdd(x, Vector512.Create(Log2E), shifter);
        var n = t - shifter;
        var r = Vector512.FusedMultiplyAdd(-n, Vector512.Create(Ln2Hi), x);
        r = Vector512.FusedMultiplyAdd(-n, Vector512.Create(Ln2Lo), r);

        var p = Vector512.FusedMultiplyAdd(Vector512.Create(C11), r, Vector512.Create(C10));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C9));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C8));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C7));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C6));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C5));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<double>.One);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<double>.One);

        var scale = Vector512.ShiftLeft(t.AsInt64() + Vector512.Create(ExponentBias), 52).AsDouble();
        return p * scale;
    }
}
