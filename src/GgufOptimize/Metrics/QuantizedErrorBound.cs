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

    /// <summary>
    /// The bound of one position: the row's own tail mass (≤ ε) in place of ε, τ and κ of the chunk the row is in, and a
    /// spread S that is an upper bound of the exact one, known from the stored row and the target alone
    /// (<see cref="SpreadBound"/>).
    /// </summary>
    public static double Of(double tailMass, double totalVariation, double decodedDivergence, double spread) =>
        (tailMass + totalVariation) * spread + decodedDivergence;

    /// <summary>
    /// Upper bound of S = max_i r_i − min_i r_i (r_i = log P_i − target logit_i; S ignores constants added to either
    /// side) from intervals known to hold each exact log P_i: a kept token's stored value ± its quantization step, a
    /// tail token's [smallest log-probability of the row, log P_tail].
    /// </summary>
    public struct SpreadBound()
    {
        private double _high = double.NegativeInfinity, _low = double.PositiveInfinity;

        /// <summary>A token whose exact log P lies in [low, high] and whose target logit is <paramref name="target"/>.</summary>
        public void Add(double low, double high, double target)
        {
            _high = Math.Max(_high, high - target);
            _low = Math.Min(_low, low - target);
        }

        /// <summary>Tail tokens (all in [low, high]) with target logits in [targetMin, targetMax].</summary>
        public void AddTail(double low, double high, double targetMin, double targetMax)
        {
            _high = Math.Max(_high, high - targetMin);
            _low = Math.Min(_low, low - targetMax);
        }

        public readonly double Value => _high >= _low ? _high - _low : 0;
    }
}
