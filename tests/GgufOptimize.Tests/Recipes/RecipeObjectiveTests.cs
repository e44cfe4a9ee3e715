using GgufOptimize.Recipes;

namespace GgufOptimize.Tests.Recipes;

public class RecipeObjectiveTests
{
    private static SensitivityTable Table(params SensitivityEntry[] entries) => new()
    {
        Model = "m.gguf", ModelBytes = 1, BaselineLogits = "b.h5", Reference = "F16", Grouping = "tensor", Types = ["Q4_K", "Q8_0"], Chunks = [0, 1],
        Tokens = 10, Seed = 1, Alignment = 32, TotalElements = 100, FixedBytes = 0, ReferenceMeanKld = 0, ReferenceScore = 0.01,
        Groups = [], Entries = entries, Additivity = [], Measurements = 1, QuantizeSeconds = 0, KldSeconds = 0,
    };

    [Fact]
    public void Each_objective_costs_a_cell_by_its_own_statistic()
    {
        // Group a hurts the mean more, group b the tails (its Score rises more for a smaller mean increase).
        var a4 = new SensitivityEntry("a", "Q4_K", "Q4_K", 10, 32, 0.004, 0.001, 0.004, 0.03);
        var b4 = new SensitivityEntry("b", "Q4_K", "Q4_K", 10, 32, 0.002, 0.001, 0.002, 0.07);
        var a8 = new SensitivityEntry("a", "Q8_0", "Q8_0", 20, 32, 0.0, 0.001, 0.0, 0.01);
        var b8 = new SensitivityEntry("b", "Q8_0", "Q8_0", 20, 32, 0.0, 0.001, 0.0, 0.01);
        var table = Table(a4, b4, a8, b8);
        var mean = RecipeObjectives.Cost(RecipeObjective.Mean, table);
        var score = RecipeObjectives.Cost(RecipeObjective.Score, table);
        var both = RecipeObjectives.Cost(RecipeObjective.Both, table);
        Assert.True(mean(a4) > mean(b4));
        Assert.True(score(a4) < score(b4));
        Assert.Equal(0.06, score(b4), 12);
        // Scales: mean 0.004 + 0.002, Score 0.02 + 0.06.
        Assert.Equal(0.004 / 0.006 + 0.02 / 0.08, both(a4), 12);
        Assert.Equal(0, both(a8), 12);

        // With room for one Q8_0, the mean objective upgrades a, the Score objective b.
        List<GroupOption> Options(Func<SensitivityEntry, double> cost, SensitivityEntry q4, SensitivityEntry q8) =>
            RecipeSolver.MonotoneEnvelope([new(q4.Type, q4.AlignedBytes, cost(q4)), new(q8.Type, q8.AlignedBytes + 32, cost(q8))]).ToList();
        string[] Pick(Func<SensitivityEntry, double> cost)
        {
            var groups = new[] { Options(cost, a4, a8), Options(cost, b4, b8) };
            var picks = RecipeSolver.Solve(groups, 32 + 64)!;
            return [groups[0][picks[0]].Type, groups[1][picks[1]].Type];
        }
        Assert.Equal(["Q8_0", "Q4_K"], Pick(mean));
        Assert.Equal(["Q4_K", "Q8_0"], Pick(score));
    }

    [Fact]
    public void The_corrected_objective_scales_each_type_by_its_own_additivity_ratio()
    {
        var a4 = new SensitivityEntry("a", "Q4_K", "Q4_K", 10, 32, 0.004, 0.001, 0.004, 0.03);
        var a8 = new SensitivityEntry("a", "Q8_0", "Q8_0", 20, 32, 0.001, 0.001, 0.001, 0.01);
        var table = Table(a4, a8) with
        {
            Additivity = [new AdditivityCheck("Q4_K", 0.004, 0.006, 0, 0, 10), new AdditivityCheck("Q8_0", 0.001, 0.0005, 0, 0, 20)],
        };
        var cost = RecipeObjectives.Cost(RecipeObjective.Corrected, table);
        Assert.Equal(0.006, cost(a4), 12);
        Assert.Equal(0.0005, cost(a8), 12);
    }

    [Fact]
    public void Sizes_that_share_a_divisor_are_solved_exactly_without_losing_budget_to_rounding()
    {
        // 30 groups of 25,600- and 51,200-byte options; a budget that allows exactly 7 upgrades. In steps of
        // budget / 20000 (47.36 bytes) each size rounds up and only 6 upgrades fit; exact steps use all of it.
        var groups = Enumerable.Range(0, 30).Select(g => (IReadOnlyList<GroupOption>)
            [new GroupOption("small", 25_600, 1.0 + g * 0.01), new GroupOption("large", 51_200, 0.0)]).ToList();
        long budget = 30 * 25_600 + 7 * 25_600;
        var picks = RecipeSolver.Solve(groups, budget)!;
        Assert.Equal(7, picks.Count(p => p == 1));
        // The seven most costly groups (highest small-option delta) are the ones upgraded.
        Assert.All(Enumerable.Range(23, 7), g => Assert.Equal(1, picks[g]));
    }
}
