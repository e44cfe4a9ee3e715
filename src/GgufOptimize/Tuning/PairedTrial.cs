namespace GgufOptimize.Tuning;

/// <summary>One pair of back-to-back trials: the challenger's and the incumbent's tokens per second.</summary>
internal sealed record PairedTrial(double Challenger, double Incumbent)
{
    /// <summary>The challenger's speed relative to the incumbent's in this pair.</summary>
    public double Ratio => Challenger / Incumbent;
    /// <summary>True when the challenger was strictly faster in this pair.</summary>
    public bool ChallengerFaster => Challenger > Incumbent;
}

/// <summary>The outcome of comparing a challenger with the incumbent setting.</summary>
internal enum ComparisonVerdict
{
    /// <summary>Faster in every pair and by at least the minimum gain: it replaces the incumbent.</summary>
    Better,
    /// <summary>Slower (or not clearly faster) in some pair, or faster by less than the minimum gain.</summary>
    NotBetter,
    /// <summary>The trial budget ran out before the rule could decide; treated as not better.</summary>
    OutOfBudget,
}

/// <summary>One comparison of the search, with every pair it measured.</summary>
internal sealed record TuningComparison(TuningSetting Incumbent, TuningSetting Challenger, IReadOnlyList<PairedTrial> Pairs, ComparisonVerdict Verdict)
{
    /// <summary>The median of the challenger/incumbent ratios over the pairs (NaN when none were measured).</summary>
    public double MedianRatio => Median(Pairs.Select(p => p.Ratio));

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
