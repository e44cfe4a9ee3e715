using GgufOptimize.Common;
using GgufOptimize.Tuning;

namespace GgufOptimize.Tests.Tuning;

/// <summary>The search's guarantees, on fake meters: it ends within its trial cap, and recommends only what beat the defaults in this run.</summary>
public class TuningSearchTests
{
    private static readonly TuningRule Rule = new();

    private static TuningSpace Space(int context = 512, int cores = 4) => new(context, defaultThreads: 1, physicalCores: cores, logicalProcessors: cores);

    [Theory]
    [InlineData(20)]
    [InlineData(37)]
    [InlineData(60)]
    [InlineData(200)]
    public void The_search_never_runs_more_trials_than_its_cap(int cap)
    {
        for (int seed = 0; seed < 40; seed++)
        {
            var meter = new FakeMeter(FakeMeter.RandomLandscape(seed), noise: 0.3, seed);
            var outcome = TuningSearch.Run(Space(2048, 8), meter, Rule, cap, NullProgress.Instance);
            Assert.True(meter.Trials.Count <= cap, $"seed {seed}: {meter.Trials.Count} trials, cap {cap}");
            Assert.Equal(meter.Trials.Count, outcome.Trials);
            Assert.Equal(meter.Trials.Count, outcome.Samples.Values.Sum(v => v.Count));
        }
    }

    [Fact]
    public void The_recommendation_is_the_defaults_or_beat_them_in_every_pair_of_the_final_check()
    {
        int changed = 0;
        for (int seed = 0; seed < 200; seed++)
        {
            // Heavy noise: many candidates win comparisons by luck along the way; the final check must still hold.
            var meter = new FakeMeter(FakeMeter.RandomLandscape(seed), noise: seed % 2 == 0 ? 0.05 : 0.6, seed);
            var space = Space();
            var outcome = TuningSearch.Run(space, meter, Rule, TuningSearch.DefaultMaxTrials, NullProgress.Instance);
            if (outcome.Recommended == space.Defaults) continue;
            changed++;
            var check = Assert.IsType<TuningComparison>(outcome.Confirmation);
            Assert.Equal(space.Defaults, check.Incumbent);
            Assert.Equal(outcome.Recommended, check.Challenger);
            Assert.Equal(Rule.Repeats, check.Pairs.Count);
            Assert.All(check.Pairs, p => Assert.True(p.Challenger > p.Incumbent, $"seed {seed}: a pair of the final check was not faster"));
            Assert.True(check.MedianRatio >= 1 + Rule.MinGain);
            // The pairs are the meter's own measurements of these two settings in this run.
            Assert.All(check.Pairs, p => Assert.Contains((outcome.Recommended, p.Challenger), meter.Trials));
            Assert.All(check.Pairs, p => Assert.Contains((space.Defaults, p.Incumbent), meter.Trials));
        }
        Assert.True(changed > 20, $"only {changed} of 200 runs recommended anything but the defaults: the test checks too little");
    }

    [Fact]
    public void When_the_defaults_are_fastest_they_stay_recommended_even_under_noise()
    {
        for (int seed = 0; seed < 100; seed++)
        {
            var space = Space();
            // Everything else is 1 % slower: within the noise, so luck may carry a candidate through the search.
            var meter = new FakeMeter(s => s == space.Defaults ? 1000 : 990, noise: 0.2, seed);
            var outcome = TuningSearch.Run(space, meter, Rule, TuningSearch.DefaultMaxTrials, NullProgress.Instance);
            if (outcome.Recommended != space.Defaults)
                Assert.All(outcome.Confirmation!.Pairs, p => Assert.True(p.Challenger > p.Incumbent));
        }
        var exact = new FakeMeter(s => s == Space().Defaults ? 1000 : 500, noise: 0, 1);
        Assert.Equal(Space().Defaults, TuningSearch.Run(Space(), exact, Rule, TuningSearch.DefaultMaxTrials, NullProgress.Instance).Recommended);
    }

    [Fact]
    public void A_clearly_faster_setting_is_found_by_following_the_grid()
    {
        // Speed peaks at ubatch 128 and 2 threads; batch does not matter. No noise: the search must walk there.
        double Speed(TuningSetting s) => 1000 / (1 + Math.Abs(Math.Log2(s.UBatch / 128.0))) / (1 + Math.Abs(s.Threads - 2));
        var space = Space(1024, 4);
        var meter = new FakeMeter(Speed, noise: 0, 3);
        var outcome = TuningSearch.Run(space, meter, Rule, 200, NullProgress.Instance);
        Assert.Equal(128, outcome.Recommended.UBatch);
        Assert.Equal(2, outcome.Recommended.Threads);
        Assert.Equal(TuningStop.Converged, outcome.Stop);
        Assert.True(outcome.Recommended.UBatch <= outcome.Recommended.Batch);
        // Not brute force: far fewer settings measured than the grid holds.
        int grid = space.BatchValues.Count * space.BatchValues.Count * space.ThreadValues.Count;
        Assert.True(outcome.Samples.Count < grid / 3, $"{outcome.Samples.Count} of {grid} settings measured");
    }

    [Fact]
    public void A_loser_is_dropped_at_its_first_lost_pair()
    {
        var space = Space();
        var meter = new FakeMeter(s => s == space.Defaults ? 1000 : 100, noise: 0, 1);
        var outcome = TuningSearch.Run(space, meter, Rule, TuningSearch.DefaultMaxTrials, NullProgress.Instance);
        Assert.All(outcome.Comparisons, c => Assert.Single(c.Pairs));
        Assert.Null(outcome.Confirmation);
    }

    [Fact]
    public void A_cap_too_small_for_one_comparison_and_the_final_check_is_bad_input()
    {
        var e = Assert.Throws<GgufOptimizeException>(() => TuningSearch.Run(Space(), new FakeMeter(_ => 1, 0, 1), Rule, 19, NullProgress.Instance));
        Assert.Equal(FailureKind.BadInput, e.Kind);
        Assert.Contains("--max-trials 19", e.Message);
    }

    [Fact]
    public void Pairs_alternate_which_setting_runs_first()
    {
        var space = Space();
        var faster = space.Step(space.Defaults, TuningDimension.UBatch, -1)!;
        var meter = new FakeMeter(s => s == faster ? 2000 : 1000, noise: 0, 1);
        TuningSearch.Run(space, meter, Rule, TuningSearch.DefaultMaxTrials, NullProgress.Instance);
        // The first comparison: challenger, incumbent, then incumbent, challenger, ...
        var firstTen = meter.Trials.Take(2 * Rule.Repeats).Select(t => t.Setting).ToList();
        for (int pair = 0; pair < Rule.Repeats; pair++)
            Assert.Equal(pair % 2 == 0 ? faster : space.Defaults, firstTen[2 * pair]);
    }
}
