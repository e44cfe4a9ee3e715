using System.Globalization;

namespace GgufOptimize.Metrics;

/// <summary>Settings of the stopping rule: the relative improvement worth more data, and the paired bootstrap.</summary>
internal sealed record StoppingOptions(double MinImprovement, BootstrapOptions Bootstrap);

/// <summary>Whether one more calibration step paid off, with the paired comparison it rests on.</summary>
/// <param name="Continue">True: the improvement is significant and at least the minimum, so more data is tried.</param>
/// <param name="Reason">One sentence for the user.</param>
internal sealed record StepDecision(bool Continue, string Reason, PairedScoreComparison Comparison)
{
    /// <summary>Relative Score improvement of the newer iteration (positive = better).</summary>
    public double Improvement => -Comparison.RelativeChange;
}

/// <summary>The iteration chosen as best for a type, and why.</summary>
internal sealed record BestChoice(int Iteration, int LowestScoreIteration, string Reason);

/// <summary>
/// Diminishing returns, judged on the same tokens: iteration n is compared with n−1 by a paired block bootstrap
/// (chunks as blocks) of the composite-score difference. More data is tried only while the improvement is
/// significant at the chosen confidence and at least the minimum relative improvement.
/// </summary>
internal static class StoppingRule
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static StepDecision Decide(IReadOnlyList<ChunkResult> previous, IReadOnlyList<ChunkResult> current, StoppingOptions options)
    {
        var (a, b) = CommonChunks(previous, current);
        var p = BlockBootstrap.Paired(a, b, options.Bootstrap);
        double improvement = -p.RelativeChange;
        string change = Describe(p);
        if (!p.IsSignificant)
            return new StepDecision(false, $"the change {change} is not significant (its interval includes 0)", p);
        if (improvement < 0)
            return new StepDecision(false, $"the Score got significantly worse: {change}", p);
        if (improvement < options.MinImprovement)
            return new StepDecision(false, $"the improvement {change} is below the minimum of {options.MinImprovement.ToString("0.##%", Inv)}", p);
        return new StepDecision(true, $"improved significantly: {change}", p);
    }

    /// <summary>
    /// The iteration with the lowest Score, unless an earlier (smaller) one is not significantly worse than it:
    /// then the earliest such one wins, since it reaches the same quality with less calibration data.
    /// </summary>
    /// <param name="numbers">The iterations' numbers (default 0, 1, 2 …): what the result and its reason call them.</param>
    public static BestChoice Best(IReadOnlyList<IReadOnlyList<ChunkResult>> iterations, BootstrapOptions bootstrap, IReadOnlyList<int>? numbers = null)
    {
        if (iterations.Count == 0) throw new ArgumentException("no iterations to choose from");
        numbers ??= Enumerable.Range(0, iterations.Count).ToList();
        int lowest = 0;
        double best = double.PositiveInfinity;
        for (int i = 0; i < iterations.Count; i++)
        {
            double score = KldStatistics.Compute(iterations[i]).Score;
            if (score < best) { best = score; lowest = i; }
        }
        // A NaN Score compares false with everything: without this, iteration 0 would "win" when no Score is finite.
        if (double.IsPositiveInfinity(best))
            throw Common.GgufOptimizeException.Runtime($"none of the {iterations.Count} iteration(s) has a finite Score, so none can be called best");
        for (int j = 0; j < lowest; j++)
        {
            var (a, b) = CommonChunks(iterations[lowest], iterations[j]);
            var p = BlockBootstrap.Paired(a, b, bootstrap);
            if (!p.IsSignificant)
                return new BestChoice(numbers[j], numbers[lowest], $"iteration {numbers[j]} is not significantly worse than iteration {numbers[lowest]} (lowest Score): {Describe(p)}");
        }
        return new BestChoice(numbers[lowest], numbers[lowest], iterations.Count == 1 ? "the only iteration"
            : lowest == 0 ? "lowest Score" : "lowest Score, significantly better than every earlier iteration");
    }

    /// <summary>The chunks both comparisons hold, in the same order (pairing needs the same text on both sides).</summary>
    public static (IReadOnlyList<ChunkResult> A, IReadOnlyList<ChunkResult> B) CommonChunks(IReadOnlyList<ChunkResult> a, IReadOnlyList<ChunkResult> b)
    {
        if (a.Count == b.Count && a.Select(c => c.ChunkIndex).SequenceEqual(b.Select(c => c.ChunkIndex))) return (a, b);
        var inB = b.ToDictionary(c => c.ChunkIndex);
        var pairs = a.Where(c => inB.ContainsKey(c.ChunkIndex)).OrderBy(c => c.ChunkIndex).Select(c => (c, inB[c.ChunkIndex])).ToList();
        if (pairs.Count == 0) throw Common.GgufOptimizeException.BadInput("the two comparisons share no chunk, so they cannot be paired");
        return (pairs.Select(p => p.Item1).ToList(), pairs.Select(p => p.Item2).ToList());
    }

    /// <summary>"−4.12 % [−6.0 %, −2.3 %]" (relative Score change with its interval).</summary>
    public static string Describe(PairedScoreComparison p) =>
        $"{Percent(p.RelativeChange)} [{Percent(p.RelativeChangeLower)}, {Percent(p.RelativeChangeUpper)}]";

    private static string Percent(double v) => (v >= 0 ? "+" : "−") + Math.Abs(v * 100).ToString("0.00", Inv) + " %";
}
