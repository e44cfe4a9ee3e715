using GgufOptimize.Common;

namespace GgufOptimize.Tuning;

/// <summary>Why the search stopped.</summary>
internal enum TuningStop
{
    /// <summary>A full pass over every dimension found no better neighbour.</summary>
    Converged,
    /// <summary>The trial cap was reached (the confirmation still ran: its trials are reserved).</summary>
    TrialCap,
}

/// <summary>What a search measured and what it recommends.</summary>
internal sealed record TuningOutcome(
    TuningSetting Defaults,
    TuningSetting Recommended,
    IReadOnlyList<TuningComparison> Comparisons,
    TuningComparison? Confirmation,
    IReadOnlyDictionary<TuningSetting, IReadOnlyList<double>> Samples,
    int Trials,
    TuningStop Stop);

/// <summary>
/// Coordinate descent on <see cref="TuningSpace"/>'s grid, starting at the defaults: along each dimension in turn
/// (ubatch, threads, batch) the next value down, then up, is compared with the current best by
/// <see cref="TuningRule"/>; a winner becomes the current best and the search keeps going the same way; passes
/// repeat until one changes nothing or the trial cap is near. Finally the result is compared once more directly with
/// the defaults under the same rule, and it is recommended only when it wins — so the recommendation is never a
/// setting measured slower than the defaults in this run; otherwise the defaults are.
/// </summary>
internal static class TuningSearch
{
    public const int DefaultMaxTrials = 60;

    public static TuningOutcome Run(TuningSpace space, IThroughputMeter meter, TuningRule rule, int maxTrials, IProgressSink progress, CancellationToken cancellationToken = default)
    {
        int reserve = 2 * rule.Repeats;
        if (maxTrials < 2 * reserve)
            throw GgufOptimizeException.BadInput($"--max-trials {maxTrials} is too small: a search at --repeats {rule.Repeats} needs at least {2 * reserve} (one comparison and the final check against the defaults)");
        var state = new State(meter, rule, maxTrials, progress, cancellationToken);
        progress.Start("tune", maxTrials);
        var best = space.Defaults;
        var lost = new HashSet<TuningSetting>();
        var stop = TuningStop.Converged;
        bool changed = true;
        while (changed && stop == TuningStop.Converged)
        {
            changed = false;
            foreach (var dimension in new[] { TuningDimension.UBatch, TuningDimension.Threads, TuningDimension.Batch })
            {
                foreach (int direction in new[] { -1, 1 })
                {
                    bool moved = false;
                    while (space.Step(best, dimension, direction) is { } next && !lost.Contains(next))
                    {
                        if (state.Trials + reserve + 2 * rule.Repeats > maxTrials) { stop = TuningStop.TrialCap; break; }
                        var comparison = state.Compare(best, next);
                        if (comparison.Verdict != ComparisonVerdict.Better)
                        {
                            lost.Add(next);
                            break;
                        }
                        progress.Info($"tune: {next} beats {best} (median paired speed-up {comparison.MedianRatio:0.000}×)");
                        lost.Add(best);
                        best = next;
                        moved = changed = true;
                    }
                    if (moved || stop != TuningStop.Converged) break;
                }
                if (stop != TuningStop.Converged) break;
            }
        }

        TuningComparison? confirmation = null;
        var recommended = space.Defaults;
        if (best != space.Defaults)
        {
            confirmation = state.Compare(space.Defaults, best);
            if (confirmation.Verdict == ComparisonVerdict.Better) recommended = best;
            else progress.Warn($"tune: {best} did not beat the defaults {space.Defaults} again in the final check; the defaults stay recommended");
        }
        progress.Finish();
        return new TuningOutcome(space.Defaults, recommended, state.Comparisons, confirmation,
            state.Samples.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<double>)kv.Value), state.Trials, stop);
    }

    private sealed class State(IThroughputMeter meter, TuningRule rule, int maxTrials, IProgressSink progress, CancellationToken cancellationToken)
    {
        public int Trials { get; private set; }
        public List<TuningComparison> Comparisons { get; } = [];
        /// <summary>Every trial's tokens/s by setting, in the order settings were first measured.</summary>
        public Dictionary<TuningSetting, List<double>> Samples { get; } = [];

        public TuningComparison Compare(TuningSetting incumbent, TuningSetting challenger)
        {
            var pairs = new List<PairedTrial>();
            ComparisonVerdict? verdict = null;
            while (verdict is null)
            {
                if (Trials + 2 > maxTrials) { verdict = ComparisonVerdict.OutOfBudget; break; }
                // Alternating order: drift (thermal, other load) cannot favour whichever always runs first.
                bool challengerFirst = pairs.Count % 2 == 0;
                double c, i;
                if (challengerFirst) { c = Measure(challenger); i = Measure(incumbent); }
                else { i = Measure(incumbent); c = Measure(challenger); }
                pairs.Add(new PairedTrial(c, i));
                verdict = rule.Decide(pairs);
            }
            var comparison = new TuningComparison(incumbent, challenger, pairs, verdict.Value);
            Comparisons.Add(comparison);
            return comparison;
        }

        private double Measure(TuningSetting setting)
        {
            cancellationToken.ThrowIfCancellationRequested();
            double rate = meter.Measure(setting);
            if (!double.IsFinite(rate) || rate <= 0)
                throw GgufOptimizeException.Runtime($"a trial at {setting} measured {rate} tokens/s; the timer or the engine is broken");
            if (!Samples.TryGetValue(setting, out var list)) Samples[setting] = list = [];
            list.Add(rate);
            Trials++;
            progress.Report(Math.Min(Trials, maxTrials));
            return rate;
        }
    }
}
