using System.Globalization;
using GgufOptimize.Metrics;

namespace GgufOptimize.Kld;

/// <summary>Builds a comparison's <see cref="EarlyStoppingOutcome"/> and writes it into the output's attributes.</summary>
internal static class EarlyStoppingSummary
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <param name="results">The chunks compared.</param>
    /// <param name="total">Chunks of the range the baseline holds.</param>
    public static EarlyStoppingOutcome Of(KldJobOptions o, EarlyStoppingRule? rule, StoppingLook? look, IReadOnlyList<ChunkResult> results, int total, bool randomOrder)
    {
        if (rule is null) return EarlyStoppingOutcome.Disabled(results.Count, total, randomOrder, o.Seed);
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

        EarlyStoppingOutcome Outcome(bool stopped, string reason, double lower, double upper) =>
            new(true, stopped, reason, results.Count, total, randomOrder, o.Seed, o.Confidence, rule.LookConfidence, o.MarginOfError,
                rule.Looks, look?.Look ?? 0, lower, upper);
    }

    /// <summary>The outcome as attributes of the comparison file (the same fields as the JSON's early_stopping object).</summary>
    public static void Record(EarlyStoppingOutcome e, IDictionary<string, string> provenance, IDictionary<string, double> numbers)
    {
        provenance["early_stopping_reason"] = e.Reason;
        provenance["early_stopping_order"] = e.RandomOrder ? "random" : "text";
        provenance["early_stopping_seed"] = e.Seed.ToString(Inv);
        provenance["early_stopping_planned_looks"] = string.Join(',', e.PlannedLooks);
        numbers["early_stopping_enabled"] = e.Enabled ? 1 : 0;
        numbers["early_stopping_stopped"] = e.Stopped ? 1 : 0;
        numbers["early_stopping_chunks"] = e.ChunksUsed;
        numbers["early_stopping_chunks_total"] = e.ChunksTotal;
        numbers["early_stopping_looks"] = e.Looks;
        if (!e.Enabled) return;
        numbers["early_stopping_confidence"] = e.Confidence;
        numbers["early_stopping_look_confidence"] = e.LookConfidence;
        numbers["early_stopping_margin"] = e.Margin;
        numbers["score_ci_lower"] = e.Lower;
        numbers["score_ci_upper"] = e.Upper;
    }
}
