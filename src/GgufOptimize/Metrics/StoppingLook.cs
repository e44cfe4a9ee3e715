namespace GgufOptimize.Metrics;

/// <summary>One look of <see cref="EarlyStoppingRule"/>: the interval of the whole range's Score after some chunks.</summary>
/// <param name="Look">1 for the first look.</param>
/// <param name="Chunks">Chunks compared so far (a random sample of the range).</param>
/// <param name="Estimate">Score of those chunks.</param>
/// <param name="Lower">Lower end of the interval of the whole range's Score.</param>
/// <param name="Upper">Upper end.</param>
/// <param name="LookConfidence">Confidence of this one interval (the overall confidence spent over every look).</param>
/// <param name="LogHalfWidth">Half-width of the interval on the log scale.</param>
/// <param name="Stop">The interval lies within ±margin of the estimate.</param>
internal sealed record StoppingLook(int Look, int Chunks, double Estimate, double Lower, double Upper, double LookConfidence, double LogHalfWidth, bool Stop)
{
    /// <summary>Largest relative distance from the estimate to a Score inside the interval.</summary>
    public double RelativeHalfWidth => Math.Exp(LogHalfWidth) - 1;
}
