using GgufOptimize.Recipes;

namespace GgufOptimize.Tests.Recipes;

public class RecipeSolverTests
{
    [Fact]
    public void Solver_finds_the_brute_force_optimum_within_the_budget()
    {
        var random = new Random(7);
        for (int trial = 0; trial < 30; trial++)
        {
            var groups = Enumerable.Range(0, 5).Select(_ => (IReadOnlyList<GroupOption>)Enumerable.Range(0, 3)
                .Select(k => new GroupOption($"T{k}", 1000 + k * 1000 + random.Next(500), random.NextDouble() / (k + 1))).ToList()).ToList();
            long budget = 9000 + random.Next(4000);
            var picks = RecipeSolver.Solve(groups, budget);
            double best = double.PositiveInfinity;
            foreach (var combo in Combinations(groups.Count, 3))
            {
                long bytes = combo.Select((k, g) => groups[g][k].Bytes).Sum();
                if (bytes <= budget) best = Math.Min(best, combo.Select((k, g) => groups[g][k].Delta).Sum());
            }
            Assert.NotNull(picks);
            Assert.True(picks!.Select((k, g) => groups[g][k].Bytes).Sum() <= budget);
            // Rounding sizes up to 1/20000 of the budget may cost at most a hair of optimality.
            Assert.InRange(picks.Select((k, g) => groups[g][k].Delta).Sum(), best, best + 1e-9 + 0.02 * best);
        }
    }

    [Fact]
    public void Solver_says_no_when_even_the_smallest_types_do_not_fit()
    {
        var groups = new[] { (IReadOnlyList<GroupOption>)[new GroupOption("A", 600, 1), new GroupOption("B", 900, 0)] };
        Assert.Null(RecipeSolver.Solve(groups, 500));
        Assert.Equal(1, RecipeSolver.Solve(groups, 900)![0]);
        Assert.Equal(0, RecipeSolver.Solve(groups, 899)![0]);
    }

    [Fact]
    public void A_smaller_type_is_never_predicted_better_than_a_larger_one()
    {
        var envelope = RecipeSolver.MonotoneEnvelope([new("Q4_K", 100, 0.001), new("Q6_K", 200, 0.002), new("Q8_0", 300, 0.0005)]);
        Assert.Equal(0.0005, envelope.Single(o => o.Type == "Q8_0").Delta);
        Assert.Equal(0.002, envelope.Single(o => o.Type == "Q6_K").Delta);
        Assert.Equal(0.002, envelope.Single(o => o.Type == "Q4_K").Delta);
    }

    [Fact]
    public void Paired_difference_weights_chunks_by_tokens()
    {
        var mix = new List<ChunkMean> { new(0, 100, 0.3), new(1, 300, 0.5) };
        var reference = new List<ChunkMean> { new(0, 100, 0.1), new(1, 300, 0.1) };
        var (delta, se) = PairedDifference.Of(mix, reference);
        Assert.Equal((100 * 0.2 + 300 * 0.4) / 400, delta, 12);
        Assert.True(se > 0);
    }

    [Theory]
    [InlineData("4.2G", 4509715660L)]
    [InlineData("900M", 943718400L)]
    [InlineData("512KiB", 524288L)]
    [InlineData("1068768", 1068768L)]
    public void Sizes_use_binary_units(string text, long bytes) => Assert.Equal(bytes, ByteSize.Parse(text, "--budget-size"));

    private static IEnumerable<int[]> Combinations(int groups, int options)
    {
        int total = (int)Math.Pow(options, groups);
        for (int i = 0; i < total; i++)
        {
            var combo = new int[groups];
            int x = i;
            for (int g = 0; g < groups; g++) { combo[g] = x % options; x /= options; }
            yield return combo;
        }
    }
}
