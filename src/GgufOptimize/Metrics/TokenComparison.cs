namespace GgufOptimize.Metrics;

/// <summary>
/// Baseline (P) versus target (Q) at one token position. Log-probabilities and <see cref="DeltaP"/> are NaN when
/// there is no next token; every value is NaN when <see cref="Status"/> is not <see cref="RowStatus.Ok"/>.
/// </summary>
/// <param name="Kld">KL(P‖Q) = Σ P_i (log P_i − log Q_i) in nats.</param>
/// <param name="LogProbBase">log P(next token).</param>
/// <param name="LogProbTarget">log Q(next token).</param>
/// <param name="DeltaP">Q(next) − P(next).</param>
/// <param name="TopBase">argmax of the baseline logits (first index on ties); −1 if not finite.</param>
/// <param name="TopTarget">argmax of the target logits (first index on ties); −1 if not finite.</param>
internal readonly record struct TokenComparison(
    RowStatus Status,
    double Kld,
    double LogProbBase,
    double LogProbTarget,
    double DeltaP,
    int TopBase,
    int TopTarget)
{
    public bool IsValid => Status == RowStatus.Ok;
    public bool SameTop => TopBase == TopTarget;
}
