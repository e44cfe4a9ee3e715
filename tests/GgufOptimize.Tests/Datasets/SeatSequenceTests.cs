using GgufOptimize.Datasets.Selection;

namespace GgufOptimize.Tests.Datasets;

public class SeatSequenceTests
{
    [Fact]
    public void Equal_weights_are_round_robin_and_shares_follow_weights_at_every_prefix()
    {
        var equal = new SeatSequence([1, 1, 1]);
        Assert.Equal([0, 1, 2, 0, 1, 2, 0], Enumerable.Range(0, 7).Select(_ => equal.Next()));
        var weighted = new SeatSequence([3, 2, 1]);
        for (int n = 1; n <= 600; n++)
        {
            weighted.Next();
            for (int i = 0; i < 3; i++)
                Assert.InRange(weighted.SeatsOf(i), n * (3 - i) / 6.0 - 1, n * (3 - i) / 6.0 + 1);
        }
    }

    [Fact]
    public void Jumping_ahead_gives_the_same_allocation_as_handing_out_every_slot()
    {
        var random = new Random(99);
        for (int trial = 0; trial < 60; trial++)
        {
            var weights = Enumerable.Range(0, 1 + random.Next(6)).Select(_ => trial % 3 == 0 ? 1.0 : 0.05 + random.NextDouble() * 5).ToArray();
            long count = random.Next(2000, 40_000);
            var single = new SeatSequence(weights);
            for (long i = 0; i < count; i++) single.Next();
            var jumped = SeatSequence.Allocate(weights, count);
            Assert.Equal(Enumerable.Range(0, weights.Length).Select(single.SeatsOf), jumped);
            // ...and the sequence continues identically afterwards.
            var continued = new SeatSequence(weights);
            continued.AdvanceTo(count);
            Assert.Equal(Enumerable.Range(0, 50).Select(_ => single.Next()), Enumerable.Range(0, 50).Select(_ => continued.Next()));
        }
    }

    [Fact]
    public void A_size_far_beyond_the_data_finishes_at_once()
    {
        var plan = SubsetPlan.ForSamples([1, 2], 5, [10, 1_000_000_000_000], [30, 4]);
        Assert.Equal(34, plan.Order.Count);
        Assert.Equal(34, plan.Boundaries[^1]);
        Assert.Equal(11, plan.Boundaries[0]); // 20 slots after the 10 skipped: 7 + 13 by weight, the second language has only 4
    }
}
