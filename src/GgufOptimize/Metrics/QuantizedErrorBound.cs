namespace GgufOptimize.Metrics;

/// <summary>
/// The error bound a quantized compact baseline guarantees per position. With P the exact baseline distribution, P̂ the
/// decoded one (kept tokens rescaled to hold 1 − P_tail, the tail as one bucket of exact mass P_tail ≤ ε), Q the target
/// and r_i = log(P_i/Q_i):
/// KLD − KLD̂ = P_tail·KL(P|tail ‖ Q|tail) + Σ_kept (P_i − P̂_i)(r_i − c) − KL(P̂ ‖ P) for any c (the kept differences sum
/// to zero). The first term lies in [0, ε·S], the second within ±TV(P̂, P)·S, the third in [0, κ], where S = max_i r_i −
/// min_i r_i over the whole vocabulary. Hence |KLD − KLD̂| ≤ (ε + τ)·S + κ, with τ and κ the largest total variation and
/// KL(P̂ ‖ P) the encoder saw (it decodes every row it writes and records both).
/// </summary>
internal static class QuantizedErrorBound
{
    /// <summary>S: max − min over tokens of (baseline logit − target logit), the spread of log(P_i/Q_i).</summary>
    public static double LogRatioSpread(ReadOnlySpan<float> baseline, ReadOnlySpan<float> target)
    {
        double max = double.NegativeInfinity, min = double.PositiveInfinity;
        for (int i = 0; i < baseline.Length; i++)
        {
            double r = (double)baseline[i] - target[i];
            if (r > max) max = r;
            if (r < min) min = r;
        }
        return max - min;
    }

    public static double Of(double tailMass, double totalVariation, double decodedDivergence, double spread) =>
        (tailMass + totalVariation) * spread + decodedDivergence;
}
