namespace GgufOptimize.Metrics;

/// <summary>
/// Compares a target logits row with a compact baseline row (the top tokens' logits and the row's log normalizer, so
/// log P_i = x_i − logNorm; a tail mass; the next token's logit): KL between the two distributions coarsened to {each stored token} ∪ {tail},
/// Σ_top P_i (log P_i − log Q_i) + P_tail (log P_tail − log Q_tail).
/// </summary>
/// <remarks>
/// This equals the exact KL minus P_tail · KL(P(·|tail) ‖ Q(·|tail)), so it is never above the exact value and below it
/// by at most P_tail · (max − min over tail tokens of (baseline logit − target logit)), with P_tail ≤ ε.
/// Q_tail comes from <see cref="KeptTailSplit"/>. Log P(next), Δp and the baseline's top token are exact; only KLD is bounded.
/// </remarks>
internal static class TopTailComparer
{
    /// <param name="scratch">At least target.Length floats, overwritten.</param>
    public static TokenComparison Compare(ReadOnlySpan<int> topIds, ReadOnlySpan<float> topLogits, double logNorm, float tailMass, float nextLogit,
        ReadOnlySpan<float> target, int nextToken, Span<float> scratch)
    {
        if (topIds.Length != topLogits.Length) throw new ArgumentException("top ids and logits differ in length");
        if (nextToken < -1 || nextToken >= target.Length)
            throw new ArgumentOutOfRangeException(nameof(nextToken), nextToken, $"next token must be −1 or in [0, {target.Length})");
        var q = RowSoftmax.Stats(target);
        bool baseFinite = topIds.Length > 0 && float.IsFinite(tailMass);
        if (!baseFinite || !q.Finite)
        {
            var status = (baseFinite ? RowStatus.Ok : RowStatus.BaselineNotFinite) | (q.Finite ? RowStatus.Ok : RowStatus.TargetNotFinite);
            return new TokenComparison(status, double.NaN, double.NaN, double.NaN, double.NaN, baseFinite ? topIds[0] : -1, q.Finite ? q.ArgMax : -1);
        }

        var split = KeptTailSplit.Of(target, q.Max, topIds, scratch);
        double targetNorm = split.TargetNorm;
        double kld = 0;
        for (int k = 0; k < topIds.Length; k++)
        {
            double lp = topLogits[k] - logNorm;
            kld += Math.Exp(lp) * (lp - (target[topIds[k]] - targetNorm));
        }
        kld += split.TailTerm(tailMass);
        kld = Math.Max(0.0, kld);

        double logP = double.NaN, logQ = double.NaN, deltaP = double.NaN;
        if (nextToken >= 0)
        {
            logP = nextLogit - logNorm;
            logQ = target[nextToken] - targetNorm;
            deltaP = Math.Exp(logQ) - Math.Exp(logP);
        }
        return new TokenComparison(RowStatus.Ok, kld, logP, logQ, deltaP, topIds[0], q.ArgMax);
    }
}
