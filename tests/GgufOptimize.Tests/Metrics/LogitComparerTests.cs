using System.Runtime.Intrinsics;
using GgufOptimize.Metrics;

namespace GgufOptimize.Tests.Metrics;

public class LogitComparerTests
{
    private static void AssertKldClose(double expected, double actual)
    {
        double tolerance = Math.Max(1e-9 * Math.Abs(expected), 1e-12);
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"KLD {actual:R} vs reference {expected:R} (diff {actual - expected:E3})");
    }

    public static TheoryData<string> Shapes => ["gaussian", "extreme", "one-hot", "flat", "tiny-noise", "odd-length"];

    private static (float[] P, float[] Q) Make(string shape, Random random)
    {
        switch (shape)
        {
            case "gaussian":
            {
                var p = LogitGenerator.Gaussian(random, 32000);
                return (p, LogitGenerator.Perturb(random, p, 0.3));
            }
            case "extreme":
            {
                var p = new float[4096];
                var q = new float[4096];
                for (int i = 0; i < p.Length; i++)
                {
                    p[i] = (float)(2e4 * random.NextDouble() - 1e4);
                    q[i] = (float)(p[i] + 30 * LogitGenerator.Normal(random));
                }
                return (p, q);
            }
            case "one-hot":
            {
                var p = LogitGenerator.Gaussian(random, 32000, scale: 1.0, spikes: 0);
                var q = LogitGenerator.Perturb(random, p, 0.5);
                p[123] = 60;
                q[123] = 45;
                return (p, q);
            }
            case "flat":
            {
                var p = new float[32000];
                var q = new float[32000];
                for (int i = 0; i < p.Length; i++) { p[i] = (float)(1e-3 * random.NextDouble()); q[i] = 0.5f; }
                return (p, q);
            }
            case "tiny-noise":
            {
                var p = LogitGenerator.Gaussian(random, 32000);
                return (p, LogitGenerator.Perturb(random, p, 0.01));
            }
            case "odd-length":
            {
                var p = LogitGenerator.Gaussian(random, 1237);
                return (p, LogitGenerator.Perturb(random, p, 1.0));
            }
            default: throw new ArgumentException(shape);
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Kld_and_next_token_values_match_float64_reference(string shape)
    {
        var random = new Random(1000 * shape.Length + shape[0]); // string hashes are randomized per process
        for (int trial = 0; trial < 5; trial++)
        {
            var (p, q) = Make(shape, random);
            int next = random.Next(p.Length);
            var narrow = LogitComparer.Compare(p, q, next, wide: false);
            var wide = LogitComparer.Compare(p, q, next, wide: true);
            AssertKldClose(ReferenceKld.Kld(p, q), narrow.Kld);
            Assert.Equal(LogitComparer.Compare(p, q, next), Vector512.IsHardwareAccelerated ? wide : narrow);
            var result = wide;

            Assert.Equal(RowStatus.Ok, result.Status);
            AssertKldClose(ReferenceKld.Kld(p, q), result.Kld);
            var logP = ReferenceKld.LogSoftmax(p);
            var logQ = ReferenceKld.LogSoftmax(q);
            Assert.Equal(logP[next], result.LogProbBase, 1e-9 * Math.Max(1, Math.Abs(logP[next])));
            Assert.Equal(logQ[next], result.LogProbTarget, 1e-9 * Math.Max(1, Math.Abs(logQ[next])));
            Assert.Equal(Math.Exp(logQ[next]) - Math.Exp(logP[next]), result.DeltaP, 1e-12);
            Assert.Equal(ReferenceKld.ArgMax(p), result.TopBase);
            Assert.Equal(ReferenceKld.ArgMax(q), result.TopTarget);
        }
    }

    /// <summary>
    /// Against a plain double-precision evaluation (one Math.Exp per logit, sums in index order): agreement to 1e-12 of
    /// the size of the terms that cancel in the kernel's form (T/S_P and ln(S_Q/S_P)), which is 1e-12 of the KLD itself
    /// unless the KLD is far smaller than they are, plus the rounding of the two sums themselves (summed in another
    /// order, each carries a relative error of about √n ulps, which ln(S_Q/S_P) passes on as an absolute one). Rows of every length around the vector widths, ranges up to the
    /// largest floats, peaked and flat rows; −∞ and NaN rows are reported, and identical rows give exactly 0.
    /// </summary>
    [Fact]
    public void Kld_matches_a_plain_double_reference_on_random_and_extreme_rows()
    {
        var random = new Random(2026);
        int[] lengths = [1, 2, 7, 8, 15, 16, 17, 31, 32, 33, 63, 100, 1000, 4099, 32000];
        foreach (int n in lengths)
            foreach (double range in new[] { 1e-6, 1.0, 30.0, 1e3, 1e30, 3e38 })
                for (int trial = 0; trial < 3; trial++)
                {
                    var p = new float[n];
                    var q = new float[n];
                    for (int i = 0; i < n; i++)
                    {
                        p[i] = (float)((random.NextDouble() * 2 - 1) * range);
                        double noise = trial switch { 0 => 1e-4, 1 => 0.1, _ => 3.0 } * Math.Min(range, 10);
                        q[i] = (float)Math.Clamp(p[i] + noise * LogitGenerator.Normal(random), -float.MaxValue, float.MaxValue);
                    }
                    if (n > 3 && trial == 1) { p[n / 3] = p.Max(); q[n - 1] = q.Max(); } // ties for the max
                    CheckAgainstPlainDouble(p, q, random.Next(n));
                    Assert.Equal(0.0, LogitComparer.Compare(p, (float[])p.Clone(), 0).Kld);
                }
    }

    [Fact]
    public void Minus_infinity_nan_and_signed_zero_maxima_are_handled_as_before()
    {
        var random = new Random(9);
        foreach (int n in new[] { 5, 16, 33, 4096 })
        {
            var p = Enumerable.Range(0, n).Select(_ => (float)-random.NextDouble() - 0.5f).ToArray();
            var q = Enumerable.Range(0, n).Select(_ => (float)-random.NextDouble() - 0.5f).ToArray();
            // The max is 0 in both rows, as −0 first and +0 later: the first index wins, whatever its sign.
            p[n / 2] = -0f; p[n - 1] = 0f;
            q[1] = 0f; q[n - 1] = -0f;
            var result = LogitComparer.Compare(p, q, n - 1);
            Assert.Equal((n / 2, 1), (result.TopBase, result.TopTarget));
            CheckAgainstPlainDouble(p, q, n - 1);

            foreach (float bad in new[] { float.NegativeInfinity, float.PositiveInfinity, float.NaN })
                foreach (int at in new[] { 0, n / 2, n - 1 })
                {
                    var broken = (float[])p.Clone();
                    broken[at] = bad;
                    var r = LogitComparer.Compare(broken, q, 0);
                    Assert.Equal(RowStatus.BaselineNotFinite, r.Status);
                    Assert.Equal((-1, 1), (r.TopBase, r.TopTarget));
                    Assert.True(double.IsNaN(r.Kld));
                    var s = LogitComparer.Compare(q, broken, 0);
                    Assert.Equal(RowStatus.TargetNotFinite, s.Status);
                    Assert.Equal((1, -1), (s.TopBase, s.TopTarget));
                }
        }
    }

    /// <summary>The kernel, both vector widths, against the plain formula evaluated term by term in double.</summary>
    private static void CheckAgainstPlainDouble(float[] p, float[] q, int next)
    {
        double maxP = p.Max(), maxQ = q.Max();
        double sumP = 0, sumQ = 0, cross = 0;
        for (int i = 0; i < p.Length; i++)
        {
            double u = p[i] - maxP, v = q[i] - maxQ;
            double e = Math.Exp(u);
            sumP += e;
            sumQ += Math.Exp(v);
            cross += e * (u - v);
        }
        double first = cross / sumP, second = Math.Log(sumQ / sumP);
        double expected = Math.Max(0, first + second);
        double tolerance = 1e-12 * Math.Max(expected, Math.Max(Math.Abs(first), Math.Abs(second))) + 8 * Math.Sqrt(p.Length) * 2.2e-16;
        foreach (bool wide in new[] { false, true })
        {
            var result = LogitComparer.Compare(p, q, next, wide);
            Assert.Equal(RowStatus.Ok, result.Status);
            Assert.True(Math.Abs(result.Kld - expected) <= tolerance,
                $"n={p.Length}, wide={wide}: KLD {result.Kld:R} vs plain double {expected:R} (difference {result.Kld - expected:E3}, allowed {tolerance:E3})");
            Assert.Equal(Array.IndexOf(p, (float)maxP), result.TopBase);
            Assert.Equal(Array.IndexOf(q, (float)maxQ), result.TopTarget);
            double logP = (p[next] - maxP) - Math.Log(sumP), logQ = (q[next] - maxQ) - Math.Log(sumQ);
            Assert.Equal(logP, result.LogProbBase, 1e-12 * Math.Max(1, Math.Abs(logP)));
            Assert.Equal(logQ, result.LogProbTarget, 1e-12 * Math.Max(1, Math.Abs(logQ)));
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Identical_rows_give_exactly_zero(string shape)
    {
        var (p, _) = Make(shape, new Random(7));
        Assert.Equal(0.0, LogitComparer.Compare(p, (float[])p.Clone(), 0, wide: false).Kld);
        var result = LogitComparer.Compare(p, (float[])p.Clone(), 0, wide: true);
        Assert.Equal(0.0, result.Kld);
        Assert.Equal(0.0, result.DeltaP);
        Assert.True(result.SameTop);
    }

    [Fact]
    public void Shifting_all_target_logits_changes_nothing()
    {
        var p = LogitGenerator.Gaussian(new Random(3), 5000);
        var q = p.Select(v => v + 17f).ToArray();
        // v + 17 rounds differently per element, so only near-zero is guaranteed.
        Assert.True(LogitComparer.Compare(p, q, 1).Kld < 1e-12);
    }

    [Fact]
    public void Two_token_closed_form()
    {
        // P = softmax(0, a) = (1 − s, s) with s = e^a/(1 + e^a); Q = softmax(0, 0) = (1/2, 1/2).
        // KL = (1 − s) ln(2(1 − s)) + s ln(2 s). With a = ln 3 this is 1/4 ln(1/2) + 3/4 ln(3/2).
        float[] p = [0f, (float)Math.Log(3)];
        float[] q = [0f, 0f];
        double pHigh = Math.Exp((double)p[1]) / (1 + Math.Exp((double)p[1]));
        double expected = (1 - pHigh) * Math.Log(2 * (1 - pHigh)) + pHigh * Math.Log(2 * pHigh);
        var result = LogitComparer.Compare(p, q, 1);
        Assert.Equal(expected, result.Kld, 1e-15);
        Assert.Equal(0.25 * Math.Log(0.5) + 0.75 * Math.Log(1.5), result.Kld, 1e-7); // (float)ln 3 is not exact
        Assert.Equal(Math.Log(pHigh), result.LogProbBase, 1e-15);
        Assert.Equal(Math.Log(0.5), result.LogProbTarget, 1e-15);
        Assert.Equal(0.5 - pHigh, result.DeltaP, 1e-15);
        Assert.Equal(1, result.TopBase);
        Assert.Equal(0, result.TopTarget); // tie: first index
        Assert.False(result.SameTop);
    }

    [Fact]
    public void Three_token_closed_form_with_integer_logits()
    {
        // P ∝ (1, e, e²), Q ∝ (e², e, 1): KL = Σ P_i (log P_i − log Q_i) = Σ P_i (2 i − 2) with both normalizers equal.
        float[] p = [0, 1, 2];
        float[] q = [2, 1, 0];
        double z = 1 + Math.E + Math.E * Math.E;
        double expected = (1 / z) * (-2) + (Math.E / z) * 0 + (Math.E * Math.E / z) * 2;
        var result = LogitComparer.Compare(p, q, 2);
        Assert.Equal(expected, result.Kld, 1e-15);
        Assert.Equal(2 - Math.Log(z), result.LogProbBase, 1e-15);
        Assert.Equal(-Math.Log(z), result.LogProbTarget, 1e-15);
    }

    [Fact]
    public void Probability_underflowing_to_zero_in_target_stays_finite_and_exact()
    {
        // Q puts e^-10000 on the token P is sure about: KL ≈ 10000, computed exactly in log space.
        var p = new float[64];
        var q = new float[64];
        p[5] = 1e4f;
        q[9] = 1e4f;
        var result = LogitComparer.Compare(p, q, 5);
        Assert.Equal(1e4, result.Kld, 1e-6);
        Assert.Equal(0.0, result.LogProbBase, 1e-12);
        Assert.Equal(-1e4, result.LogProbTarget, 1e-6);
        Assert.Equal(-1.0, result.DeltaP, 1e-12);
    }

    [Fact]
    public void No_next_token_gives_nan_probabilities_but_a_kld()
    {
        var p = LogitGenerator.Gaussian(new Random(1), 100);
        var q = LogitGenerator.Perturb(new Random(2), p, 0.2);
        var result = LogitComparer.Compare(p, q, -1);
        Assert.Equal(RowStatus.Ok, result.Status);
        Assert.True(double.IsNaN(result.LogProbBase) && double.IsNaN(result.LogProbTarget) && double.IsNaN(result.DeltaP));
        AssertKldClose(ReferenceKld.Kld(p, q), result.Kld);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Non_finite_rows_are_reported_not_zeroed(float bad)
    {
        var p = LogitGenerator.Gaussian(new Random(4), 1000);
        var q = LogitGenerator.Perturb(new Random(5), p, 0.2);
        foreach (var position in new[] { 0, 37, 999 })
        {
            var broken = (float[])q.Clone();
            broken[position] = bad;
            var result = LogitComparer.Compare(p, broken, 3);
            Assert.Equal(RowStatus.TargetNotFinite, result.Status);
            Assert.False(result.IsValid);
            Assert.True(double.IsNaN(result.Kld));

            var both = LogitComparer.Compare(broken, broken, 3);
            Assert.Equal(RowStatus.BaselineNotFinite | RowStatus.TargetNotFinite, both.Status);
        }
    }

    [Fact]
    public void Argmax_ties_pick_the_first_index_in_every_lane_position()
    {
        for (int first = 0; first < 70; first++)
        {
            var p = new float[100];
            p[first] = 5;
            p[first + 20] = 5;
            var result = LogitComparer.Compare(p, p, -1);
            Assert.Equal(first, result.TopBase);
        }
    }

    [Fact]
    public void Mismatched_rows_and_bad_token_ids_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => LogitComparer.Compare(new float[3], new float[4], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => LogitComparer.Compare(new float[3], new float[3], 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => LogitComparer.Compare(new float[3], new float[3], -2));
    }
}
