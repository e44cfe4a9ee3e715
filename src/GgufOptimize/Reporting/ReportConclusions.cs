using System.Globalization;

namespace GgufOptimize.Reporting;

/// <summary>
/// The report's conclusions in plain sentences: per type the bottom line (best step against the reference step, with
/// the Score's relative change computed from the files), then one sentence for each result that looks contradictory —
/// a PPL ratio below 1, or a PPL ratio moving away from 1 while the Score improves.
/// </summary>
internal static class ReportConclusions
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static IReadOnlyList<string> Of(IReadOnlyList<TypeSection> types)
    {
        var sentences = new List<string>();
        foreach (var t in types)
        {
            sentences.Add(BottomLine(t));
            if (BelowOne(t) is { } below) sentences.Add(below);
            if (PerplexityAgainstScore(t) is { } against) sentences.Add(against);
        }
        return sentences;
    }

    /// <summary>The Score's relative change from <paramref name="from"/> to <paramref name="to"/> (−0.11 = 11 % lower).</summary>
    public static double RelativeChange(ReportRow from, ReportRow to) => to.Data.Score / from.Data.Score - 1;

    /// <summary>"11 %" or "4.2 %": whole percent from 10 % up, one decimal below.</summary>
    public static string Percent(double relative)
    {
        double p = Math.Abs(relative) * 100;
        return (p >= 10 ? p.ToString("F0", Inv) : p.ToString("F1", Inv)) + " %";
    }

    private static string BottomLine(TypeSection t)
    {
        var reference = t.Rows[0];
        var best = t.Rows.First(r => r.IsBest);
        if (t.Rows.Count == 1) return $"{t.Type}: one comparison only (Score {G(reference.Data.Score)}), nothing to weigh it against.";
        if (!double.IsFinite(reference.Data.Score) || !double.IsFinite(best.Data.Score) || reference.Data.Score <= 0)
            return $"{t.Type}: the Scores are not all known, so no bottom line can be computed.";
        bool withoutReference = reference.Data.UsesImatrix == false;
        if (!ReferenceEquals(best, reference))
        {
            double change = RelativeChange(reference, best);
            string direction = change < 0 ? "lower" : "higher";
            return withoutReference
                ? $"With an imatrix from {best.Calibration}, {t.Type}'s Score is {Percent(change)} {direction} than without ({G(best.Data.Score)} vs {G(reference.Data.Score)})."
                : $"{t.Type}'s best step, {Step(best)}, has a Score {Percent(change)} {direction} than the reference step, {Step(reference)} ({G(best.Data.Score)} vs {G(reference.Data.Score)}).";
        }
        var lowest = t.Rows.Where(r => double.IsFinite(r.Data.Score)).MinBy(r => r.Data.Score)!;
        if (ReferenceEquals(lowest, reference))
            return withoutReference
                ? $"{t.Type}: no imatrix lowered the Score — every one tried made it higher — so quantize {t.Type} without one."
                : $"{t.Type}: no later step lowered the Score below the reference step, {Step(reference)}.";
        string by = Percent(RelativeChange(reference, lowest));
        return withoutReference
            ? $"{t.Type}: no imatrix lowered the Score significantly — the lowest, with an imatrix from {lowest.Calibration}, is only {by} lower — so quantizing without one is as good."
            : $"{t.Type}: no later step lowered the Score significantly below the reference step, {Step(reference)} (the lowest is only {by} lower).";
    }

    private static string? BelowOne(TypeSection t)
    {
        var rows = t.Rows.Where(r => r.Data.Stat("PPL_ratio") < 1).ToList();
        if (rows.Count == 0) return null;
        var ratios = rows.Select(r => r.Data.Stat("PPL_ratio")).ToList();
        string which = rows.Count == 1 ? $"{t.Type} {Step(rows[0])} has a PPL ratio below 1 ({F4(ratios[0])})"
            : rows.Count == t.Rows.Count ? $"Every {t.Type} step has a PPL ratio below 1 ({F4(ratios.Min())}–{F4(ratios.Max())})"
            : $"{t.Type} {string.Join(", ", rows.Select(r => $"{Step(r)} ({F4(r.Data.Stat("PPL_ratio"))})"))} have PPL ratios below 1";
        return $"{which}: the quantized model happens to give this text's actual next tokens more probability than the baseline does, "
            + "which is not closeness to the baseline — its distributions still differ, and the Score, which measures that difference, counts it as a loss.";
    }

    private static string? PerplexityAgainstScore(TypeSection t)
    {
        var reference = t.Rows[0];
        var best = t.Rows.First(r => r.IsBest);
        if (ReferenceEquals(best, reference) || !(best.Data.Score < reference.Data.Score)) return null;
        double a = reference.Data.Stat("PPL_ratio"), b = best.Data.Stat("PPL_ratio");
        // Only a perplexity that rises above the reference's and above 1 contradicts the Score; one that falls below 1 is BelowOne's case.
        if (!(a > 0 && b > Math.Max(a, 1))) return null;
        return $"For {t.Type} the PPL ratio rises ({F4(a)} → {F4(b)}) while the Score falls by {Percent(RelativeChange(reference, best))}: "
            + "perplexity weighs only the probability of the one token that follows in the text, the Score the whole distribution and its worst tokens, "
            + "so the imatrix brings the distribution closer to the baseline's even though that one probability drifts.";
    }

    private static string Step(ReportRow r) => r.Data.UsesImatrix switch
    {
        false => "without an imatrix",
        true => $"with an imatrix from {r.Calibration}",
        null => $"'{r.Data.Label}'",
    };

    private static string F4(double v) => v.ToString("F4", Inv);

    private static string G(double v) => double.IsFinite(v) ? v.ToString("G4", Inv) : "?";
}
