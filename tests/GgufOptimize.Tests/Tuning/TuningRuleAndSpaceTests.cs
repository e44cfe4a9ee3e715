using GgufOptimize.Tuning;

namespace GgufOptimize.Tests.Tuning;

public class TuningRuleAndSpaceTests
{
    [Fact]
    public void The_rule_needs_every_pair_and_the_minimum_gain()
    {
        var rule = new TuningRule { Repeats = 3, MinGain = 0.05 };
        Assert.Null(rule.Decide([new(110, 100), new(110, 100)]));
        Assert.Equal(ComparisonVerdict.Better, rule.Decide([new(110, 100), new(106, 100), new(120, 100)]));
        Assert.Equal(ComparisonVerdict.NotBetter, rule.Decide([new(110, 100), new(99, 100)]));
        Assert.Equal(ComparisonVerdict.NotBetter, rule.Decide([new(100, 100)]));
        Assert.Equal(ComparisonVerdict.NotBetter, rule.Decide([new(101, 100), new(104, 100), new(130, 100)]));
        Assert.Equal(0.125, rule.FalseWinChance);
        Assert.Contains("all 3", rule.Describe());
    }

    [Fact]
    public void The_grid_is_powers_of_two_up_to_the_context_with_ubatch_at_most_batch()
    {
        var space = new TuningSpace(contextSize: 300, defaultThreads: 1, physicalCores: 6, logicalProcessors: 12);
        Assert.Equal([32, 64, 128, 256, 300], space.BatchValues);
        Assert.Equal([1, 2, 4, 6, 8, 12], space.ThreadValues);
        Assert.Equal(new TuningSetting(300, 300, 1), space.Defaults);
        Assert.Null(space.Step(space.Defaults, TuningDimension.UBatch, +1));
        var lowered = space.Step(space.Defaults, TuningDimension.UBatch, -1)!;
        Assert.Equal(new TuningSetting(300, 256, 1), lowered);
        // Lowering the batch below the ubatch takes the ubatch down with it.
        Assert.Equal(new TuningSetting(256, 256, 1), space.Step(space.Defaults, TuningDimension.Batch, -1));
        Assert.Null(space.Step(new TuningSetting(32, 32, 1), TuningDimension.Batch, -1));
        Assert.Null(space.Step(new TuningSetting(128, 128, 1), TuningDimension.UBatch, +1));
        Assert.Equal(new TuningSetting(300, 300, 2), space.Step(space.Defaults, TuningDimension.Threads, +1));
    }

    [Fact]
    public void Threads_given_by_the_user_are_not_searched()
    {
        var space = new TuningSpace(128, defaultThreads: 3, physicalCores: 2, logicalProcessors: 2, searchThreads: false);
        Assert.Equal([3], space.ThreadValues);
        Assert.Equal(3, space.Defaults.Threads);
        Assert.Null(space.Step(space.Defaults, TuningDimension.Threads, +1));
        Assert.Null(space.Step(space.Defaults, TuningDimension.Threads, -1));
    }

    [Fact]
    public void A_context_below_the_smallest_batch_is_its_own_only_value()
    {
        var space = new TuningSpace(16, 1, 1, 1);
        Assert.Equal([16], space.BatchValues);
    }
}
