using GgufOptimize.Metrics;
using GgufOptimize.Workflow;

namespace GgufOptimize.Tests.Workflow;

public class StoppingRuleTests
{
    private static readonly StoppingOptions Options = new(0.01, new BootstrapOptions(1000, 0.95, 7, 2));
    private static readonly IReadOnlyList<ChunkResult> Previous = ComparisonFixtures.Baseline(40, 120, seed: 1);

    [Fact]
    public void A_real_improvement_continues()
    {
        var decision = StoppingRule.Decide(Previous, ComparisonFixtures.Scaled(Previous, _ => 0.9), Options);
        Assert.True(decision.Continue, decision.Reason);
        Assert.True(decision.Comparison.IsSignificant);
        Assert.Equal(0.10, decision.Improvement, 6);
        Assert.StartsWith("improved significantly", decision.Reason);
    }

    [Fact]
    public void Noise_without_a_true_change_stops_as_not_significant()
    {
        // Chunk factors 0.85 and 1/0.85 alternate: a large chunk-level change whose average effect is nil.
        var noisy = ComparisonFixtures.Scaled(Previous, c => c % 2 == 0 ? 0.85 : 1 / 0.85);
        var decision = StoppingRule.Decide(Previous, noisy, Options);
        Assert.False(decision.Continue);
        Assert.False(decision.Comparison.IsSignificant);
        Assert.True(decision.Comparison.RelativeChangeLower < 0 && decision.Comparison.RelativeChangeUpper > 0);
        Assert.Contains("not significant", decision.Reason);
    }

    [Fact]
    public void A_certain_but_small_improvement_stops_below_the_minimum()
    {
        // Every token 0.5 % lower: significant at any confidence, but below the 1 % worth more data.
        var decision = StoppingRule.Decide(Previous, ComparisonFixtures.Scaled(Previous, _ => 0.995), Options);
        Assert.True(decision.Comparison.IsSignificant);
        Assert.Equal(0.005, decision.Improvement, 6);
        Assert.False(decision.Continue);
        Assert.Contains("below the minimum of 1%", decision.Reason);
        Assert.True(StoppingRule.Decide(Previous, ComparisonFixtures.Scaled(Previous, _ => 0.995), Options with { MinImprovement = 0.004 }).Continue);
    }

    [Fact]
    public void A_significant_regression_stops()
    {
        var decision = StoppingRule.Decide(Previous, ComparisonFixtures.Scaled(Previous, _ => 1.05), Options);
        Assert.False(decision.Continue);
        Assert.Contains("significantly worse", decision.Reason);
    }

    [Fact]
    public void Best_prefers_less_data_when_the_lowest_score_is_not_significantly_better()
    {
        var it1 = ComparisonFixtures.Scaled(Previous, _ => 0.8);
        // Slightly lower overall than it1, but only by chunk-level noise.
        var it2 = ComparisonFixtures.Scaled(it1, c => c % 2 == 0 ? 0.82 : 1.12);
        Assert.True(KldStatistics.Compute(it2).Score < KldStatistics.Compute(it1).Score, "fixture: iteration 2 must have the lowest Score");
        var best = StoppingRule.Best([Previous, it1, it2], Options.Bootstrap);
        Assert.Equal(2, best.LowestScoreIteration);
        Assert.Equal(1, best.Iteration);
        Assert.Contains("not significantly worse", best.Reason);

        var it3 = ComparisonFixtures.Scaled(it1, _ => 0.9);
        var clear = StoppingRule.Best([Previous, it1, it3], Options.Bootstrap);
        Assert.Equal(2, clear.Iteration);
        Assert.Equal(2, clear.LowestScoreIteration);
    }

    [Fact]
    public void Comparisons_are_paired_on_the_chunks_both_have()
    {
        var shorter = ComparisonFixtures.Scaled(Previous.Take(25).ToList(), _ => 0.9);
        var decision = StoppingRule.Decide(Previous, shorter, Options);
        Assert.Equal(25, decision.Comparison.Chunks);
        Assert.Equal(0.10, decision.Improvement, 6);
        var disjoint = new[] { ComparisonFixtures.Chunk(99, [0.1f, 0.2f]) };
        Assert.Throws<GgufOptimize.Common.GgufOptimizeException>(() => StoppingRule.Decide(Previous, disjoint, Options));
    }
}
