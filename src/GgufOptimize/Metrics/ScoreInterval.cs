namespace GgufOptimize.Metrics;

/// <summary>A percentile bootstrap interval of the composite score.</summary>
/// <param name="Estimate">Score of the actual chunks.</param>
/// <param name="Lower">(1−c)/2 percentile of the resampled scores.</param>
/// <param name="Upper">(1+c)/2 percentile of the resampled scores.</param>
internal sealed record ScoreInterval(double Estimate, double Lower, double Upper, double Confidence, int Resamples, int Chunks)
{
    public double HalfWidth => (Upper - Lower) / 2;

    /// <summary>Half-width relative to the estimate (∞ when the estimate is 0 but the interval is not).</summary>
    public double RelativeHalfWidth => HalfWidth == 0 ? 0 : HalfWidth / Math.Abs(Estimate);

    /// <summary>The stopping test: is the score known to within ±margin (relative) at this confidence?</summary>
    public bool IsWithinMargin(double margin) => RelativeHalfWidth <= margin;
}
