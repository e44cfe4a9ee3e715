namespace GgufOptimize.Metrics;

/// <summary>
/// Compares a target logits row with a baseline row given as decoded log-probabilities of some tokens plus one tail
/// bucket holding the rest (log P̂ of the kept tokens and the tail mass form a distribution): KLD = Σ_kept P̂_i
/// (log P̂_i − log Q_i) + P_tail (log P_tail − log Q_tail), with Q_tail summed over the target's other tokens. With every
/// token kept (a dense row) the tail is empty. Log P(next) and the top token come exactly from the stored header.
/// </summary>
internal static class SparseLogProbComparer
{
    /// <param name="ids">Kept token ids; null for a dense row (logP then has one entry per token).</param>
    /// <param name="scratch">At least target.Length floats, overwritten.</param>
    public static TokenComparison Compare(ReadOnlySpan<int> ids, bool dense, ReadOnlySpan<double> logP, double tailMass, double logPNext, int baseTop,
        ReadOnlySpan<float> target, int nextToken, Span<float> scratch)
    {
        var q = RowSoftmax.Stats(target);
        bool baseFinite = baseTop >= 0 && double.IsFinite(tailMass);
        if (!baseFinite || !q.Finite)
        {
            var status = (baseFinite ? RowStatus.Ok : RowStatus.BaselineNotFinite) | (q.Finite ? RowStatus.Ok : RowStatus.TargetNotFinite);
            return new TokenComparison(status, double.NaN, double.NaN, double.NaN, double.NaN, baseFinite ? baseTop : -1, q.Finite ? q.ArgMax : -1);
        }
        double kld = 0, targetNorm;
        if (dense)
        {
            targetNorm = q.Max + Math.Log(RowSoftmax.SumExp(target, q.Max));
            for (int i = 0; i < target.Length; i++)
                kld += Math.Exp(logP[i]) * (logP[i] - (target[i] - targetNorm));
        }
        else
        {
            var split = KeptTailSplit.Of(target, q.Max, ids, scratch);
            targetNorm = split.TargetNorm;
            for (int k = 0; k < ids.Length; k++)
                kld += Math.Exp(logP[k]) * (logP[k] - (target[ids[k]] - targetNorm));
            kld += split.TailTerm(tailMass);
        }
        kld = Math.Max(0.0, kld);
        double logQ = double.NaN, deltaP = double.NaN, lp = double.NaN;
        if (nextToken >= 0)
        {
            lp = logPNext;
            logQ = target[nextToken] - targetNorm;
            deltaP = Math.Exp(logQ) - Math.Exp(lp);
        }
        return new TokenComparison(RowStatus.Ok, kld, lp, logQ, deltaP, baseTop, q.ArgMax);
    }
}
