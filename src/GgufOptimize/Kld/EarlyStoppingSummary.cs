using System.Globalization;
using GgufOptimize.Metrics;
using GgufOptimize.Storage;

namespace GgufOptimize.Kld;

/// <summary>Builds a comparison's <see cref="EarlyStoppingRecord"/> from the rule and its last look.</summary>
internal static class EarlyStoppingSummary
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <param name="results">The chunks compared.</param>
    /// <param name="total">Chunks of the range the baseline holds.</param>
    public static EarlyStoppingRecord Of(KldJobOptions o, EarlyStoppingRule? rule, StoppingLook? look, IReadOnlyList<ChunkResult> results, int total, bool randomOrder)
    {
        if (rule is null) return EarlyStoppingRecord.Disabled(results.Count, total, randomOrder, o.Seed);
        string confidence = o.Confidence.ToString("0.##%", Inv), margin = o.MarginOfError.ToString("0.##%", Inv);
        if (look is { Stop: true })
            return Outcome(true, $"after {results.Count} of {total} chunks (look {look.Look} of {rule.Looks.Count}) the Score of all {total} chunks is within ±{margin} of the estimate at {confidence} confidence",
                look.Lower, look.Upper);
        // Every chunk of the range was compared: the estimate is the full Score itself.
        double exact = KldStatistics.Compute(results).Score;
        string why = rule.Looks.Count == 0
            ? $"the range has {total} chunks, no more than --min-chunks ({o.MinChunks}), so all were compared and the Score is exact"
            : $"the interval did not reach ±{margin} in {rule.Looks.Count} looks, so all {total} chunks were compared and the Score is exact";
        return Outcome(false, why, exact, exact);

        EarlyStoppingRecord Outcome(bool stopped, string reason, double lower, double upper) =>
            new(true, stopped, reason, results.Count, total, randomOrder, o.Seed, o.Confidence, rule.LookConfidence, o.MarginOfError,
                rule.Looks, look?.Look ?? 0, lower, upper);
    }
}
