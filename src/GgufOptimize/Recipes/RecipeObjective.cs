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
    /// <summary>The mean-KLD increase times its type's additivity ratio (measured all-groups increase / summed cells).</summary>
    Corrected,
}

/// <summary>The per-cell cost a <see cref="RecipeObjective"/> puts into the knapsack.</summary>
internal static class RecipeObjectives
{
    public static RecipeObjective Parse(string text) => text.ToLowerInvariant() switch
    {
        "mean" => RecipeObjective.Mean,
        "score" => RecipeObjective.Score,
        "both" => RecipeObjective.Both,
        "corrected" => RecipeObjective.Corrected,
        _ => throw GgufOptimizeException.BadInput($"--objective '{text}' must be mean, score, both or corrected"),
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
            RecipeObjective.Corrected => PerType(table),
            _ => Both(Scale(e => e.Delta), Scale(ScoreDelta), ScoreDelta),
        };
    }

    /// <summary>
    /// Each type's cells scaled by how far their sum missed the measured all-groups mix of that type (1 where the check
    /// cannot tell): interactions that differ by type then shift which type is cheapest per byte, not only the prediction.
    /// </summary>
    private static Func<SensitivityEntry, double> PerType(SensitivityTable table)
    {
        var ratio = table.Additivity.Where(a => a.Predicted > 0 && double.IsFinite(a.Measured) && a.Measured > 0)
            .ToDictionary(a => a.Type, a => a.Measured / a.Predicted);
        return e => e.Delta * ratio.GetValueOrDefault(e.Type, 1.0);
    }

    private static Func<SensitivityEntry, double> Both(double meanScale, double scoreScale, Func<SensitivityEntry, double> scoreDelta) =>
        e => e.Delta / meanScale + scoreDelta(e) / scoreScale;
}
