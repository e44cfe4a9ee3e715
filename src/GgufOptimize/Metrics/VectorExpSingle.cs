using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GgufOptimize.Metrics;

/// <summary>
/// Vectorized e^x for x ≤ 0 in single precision, within 2.5e-7 relative of the exact value on [−87, 0] (VectorExpTests
/// measures it), and 0 below −87 and for −∞. For sums whose total is known to be small next to the number they are added
/// to — the compact encoder's mass below its candidate cut, at most ε of the row — where the double-precision
/// <see cref="VectorExp"/> would cost its degree-11 polynomial on four lanes for digits nobody reads. .NET's own
/// Vector512.Exp of floats was 3× slower here (measured on this machine's AVX-512).
/// </summary>
/// <remarks>x = n·ln2 + r (n by the 1.5·2^23 rounding trick, ln2 split in two for r), e^r by its Taylor polynomial to
/// degree 6 (truncation below 2e-8 on |r| ≤ ln2/2), times 2^n written into the exponent field.</remarks>
internal static class VectorExpSingle
{
    private const float Log2E = 1.44269504f;
    private const float Ln2Hi = 0.693145752f;
    private const float Ln2Lo = 1.42860677e-6f;
    private const float Shifter = 12582912.0f; // 1.5 * 2^23
    private const float Lowest = -87.0f; // 2^n stays a normal float above it
    private const int ExponentBias = 0x4B400000 - 127; // the bit pattern of Shifter minus the float exponent bias

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ExpNonPositive(Vector256<float> x)
    {
        var inRange = Vector256.GreaterThanOrEqual(x, Vector256.Create(Lowest));
        x = Vector256.Max(x, Vector256.Create(Lowest));
        var t = Vector256.FusedMultiplyAdd(x, Vector256.Create(Log2E), Vector256.Create(Shifter));
        var n = t - Vector256.Create(Shifter);
        var r = Vector256.FusedMultiplyAdd(-n, Vector256.Create(Ln2Hi), x);
        r = Vector256.FusedMultiplyAdd(-n, Vector256.Create(Ln2Lo), r);
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(1f / 720), r, Vector256.Create(1f / 120));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 24));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 6));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(0.5f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
        var scale = ((t.AsInt32() - Vector256.Create(ExponentBias)) << 23).AsSingle();
        return (p * scale) & inRange;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ExpNonPositive(Vector512<float> x)
    {
        var inRange = Vector512.GreaterThanOrEqual(x, Vector512.Create(Lowest));
        x = Vector512.Max(x, Vector512.Create(Lowest));
        var t = Vector512.FusedMultiplyAdd(x, Vector512.Create(Log2E), Vector512.Create(Shifter));
        var n = t - Vector512.Create(Shifter);
        var r = Vector512.FusedMultiplyAdd(-n, Vector512.Create(Ln2Hi), x);
        r = Vector512.FusedMultiplyAdd(-n, Vector512.Create(Ln2Lo), r);
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(1f / 720), r, Vector512.Create(1f / 120));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 24));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 6));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.5f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        var scale = ((t.AsInt32() - Vector512.Create(ExponentBias)) << 23).AsSingle();
        return (p * scale) & inRange;
    }
}
