namespace GgufOptimize.Metrics;

/// <summary>
/// Paired block bootstrap of two comparisons on the same chunks: each resample draws one chunk multiset and scores
/// both A and B on it, so chunk-to-chunk difficulty cancels in the difference.
/// </summary>
/// <param name="Difference">Score(B) − Score(A) on the actual chunks (negative: B is better).</param>
/// <param name="RelativeChange">(Score(B) − Score(A)) / Score(A) on the actual chunks.</param>
/// <param name="ProbabilityBBetter">Fraction of resamples with Score(B) &lt; Score(A).</param>
internal sealed record PairedScoreComparison(
    double ScoreA,
    double ScoreB,
    double Difference,
    double DifferenceLower,
    double DifferenceUpper,
    double RelativeChange,
    double RelativeChangeLower,
    double RelativeChangeUpper,
    double ProbabilityBBetter,
    double Confidence,
    int Resamples,
    int Chunks)
{
    /// <summary>The interval of Score(B) − Score(A) excludes 0: A and B differ at this confidence.</summary>
    public bool IsSignificant => DifferenceLower > 0 || DifferenceUpper < 0;

    /// <summary>
    /// Diminishing returns: at this confidence B improves on A by less than <paramref name="margin"/> (relative),
    /// i.e. the lower end of the relative-change interval is above −margin.
    /// </summary>
    public bool ImprovementBelow(double margin) => RelativeChangeLower > -margin;

    /// <summary>Equivalence: the whole relative-change interval lies within ±margin.</summary>
    public bool IsWithinMargin(double margin) => RelativeChangeLower >= -margin && RelativeChangeUpper <= margin;
}
