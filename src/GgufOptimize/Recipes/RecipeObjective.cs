using GgufOptimize.Common;

namespace GgufOptimize.Recipes;

/// <summary>What the recipe's knapsack minimises, summed over groups (see docs/recipe.md).</summary>
internal enum RecipeObjective
{
    /// <summary>The mean-KLD increase of each group (additive; the default).</summary>
    Mean,
    /// <summary>The Score increase of each group's single-group mix: weighs the tail percentiles the Score uses.</summary>
    Score,
    /// <summary>Both, each divided by its scale in the table, added with equal weight.</summary>
    Both,
}

/// <summary>The per-cell cost a <see cref="RecipeObjective"/> puts into the knapsack.</summary>
internal static class RecipeObjectives
{
    public static RecipeObjective Parse(string text) => text.ToLowerInvariant() switch
    {
        "mean" => RecipeObjective.Mean,
        "score" => RecipeObjective.Score,
        "both" => RecipeObjective.Both,
        _ => throw GgufOptimizeException.BadInput($"--objective '{text}' must be mean, score or both"),
    };

    /// <summary>
    /// The cost of one cell. The Score of a single-group mix minus the reference's Score stands in for the group's
    /// share of the recipe's Score: the Score scales linearly with the KL-divergences (Median^(1/3)·(tail sum)^(2/3)),
    /// so small, independent damages add up roughly as their Scores do. "both" divides each by the summed largest
    /// increase of every group (the scale of that statistic over the whole model), so neither dominates by its units.
    /// </summary>
    public static Func<SensitivityEntry, double> Cost(RecipeObjective objective, SensitivityTable table)
    {
        double ScoreDelta(SensitivityEntry e) => e.Score - table.ReferenceScore;
        double Scale(Func<SensitivityEntry, double> f) =>
            table.Entries.GroupBy(e => e.Group).Sum(g => Math.Max(0, g.Max(f))) is var s && s > 0 ? s : 1;
        return objective switch
        {
            RecipeObjective.Mean => e => e.Delta,
            RecipeObjective.Score => ScoreDelta,
            _ => Both(Scale(e => e.Delta), Scale(ScoreDelta), ScoreDelta),
        };
    }

    private static Func<SensitivityEntry, double> Both(double meanScale, double scoreScale, Func<SensitivityEntry, double> scoreDelta) =>
        e => e.Delta / meanScale + scoreDelta(e) / scoreScale;
}
