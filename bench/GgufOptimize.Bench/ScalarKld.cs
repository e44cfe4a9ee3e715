namespace GgufOptimize.Bench;

/// <summary>
/// The plain way to compute KL(P‖Q) from two logits rows: scalar double, Math.Exp, max-subtracted log-sum-exp,
/// then Σ P_i (log P_i − log Q_i) — the yardstick the vectorized kernel is measured against.
/// </summary>
internal static class ScalarKld
{
    public static double Compute(ReadOnlySpan<float> p, ReadOnlySpan<float> q)
    {
        double maxP = double.NegativeInfinity, maxQ = double.NegativeInfinity;
        for (int i = 0; i < p.Length; i++) { maxP = Math.Max(maxP, p[i]); maxQ = Math.Max(maxQ, q[i]); }
        double sumP = 0, sumQ = 0;
        for (int i = 0; i < p.Length; i++) { sumP += Math.Exp(p[i] - maxP); sumQ += Math.Exp(q[i] - maxQ); }
        double lseP = maxP + Math.Log(sumP), lseQ = maxQ + Math.Log(sumQ);
        double kld = 0;
        for (int i = 0; i < p.Length; i++)
        {
            double logP = p[i] - lseP;
            kld += Math.Exp(logP) * (logP - (q[i] - lseQ));
        }
        return kld;
    }
}
