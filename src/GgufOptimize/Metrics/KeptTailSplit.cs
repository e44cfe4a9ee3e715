namespace GgufOptimize.Metrics;

/// <summary>
/// A target row's normalizer and its tail mass when a baseline keeps only some tokens (the rest pooled in one tail
/// bucket): the part the compact and sparse comparers share. Q_tail is summed over the tail tokens relative to their
/// own maximum, never as 1 − Σ_kept Q, so a tiny tail keeps its precision.
/// </summary>
internal readonly record struct KeptTailSplit(double TargetNorm, double LogQTail, bool TailEmpty)
{
    /// <param name="rowMax">The target row's maximum (from <see cref="RowSoftmax.Stats"/>).</param>
    /// <param name="scratch">At least target.Length floats, overwritten.</param>
    public static KeptTailSplit Of(ReadOnlySpan<float> target, float rowMax, ReadOnlySpan<int> kept, Span<float> scratch)
    {
        var tail = scratch[..target.Length];
        target.CopyTo(tail);
        double keptSum = 0;
        foreach (int id in kept)
        {
            keptSum += Math.Exp((double)target[id] - rowMax);
            tail[id] = float.NegativeInfinity;
        }
        bool tailEmpty = kept.Length >= target.Length;
        float tailMax = tailEmpty ? float.NegativeInfinity : System.Numerics.Tensors.TensorPrimitives.Max(tail);
        double tailSum = tailEmpty ? 0 : RowSoftmax.SumExp(tail, tailMax); // Σ_tail e^(q − tailMax) ≥ 1
        double tailShift = tailEmpty ? 0 : Math.Exp((double)tailMax - rowMax);
        double lnSum = Math.Log(keptSum + tailShift * tailSum);
        double logQTail = tailEmpty ? double.NegativeInfinity : ((double)tailMax - rowMax) + Math.Log(tailSum) - lnSum;
        return new KeptTailSplit(rowMax + lnSum, logQTail, tailEmpty);
    }

    /// <summary>The tail bucket's term of the KL-divergence, P_tail (log P_tail − log Q_tail); 0 without a tail.</summary>
    public double TailTerm(double tailMass) => tailMass > 0 && !TailEmpty ? tailMass * (Math.Log(tailMass) - LogQTail) : 0;
}
