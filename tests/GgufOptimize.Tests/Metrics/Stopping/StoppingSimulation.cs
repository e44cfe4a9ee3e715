using GgufOptimize.Metrics;

namespace GgufOptimize.Tests.Metrics.Stopping;

/// <summary>One simulated early-stopping run: where it stopped and whether its interval and estimate hit the truth.</summary>
internal sealed record StoppingRun(int TotalChunks, bool Stopped, int ChunksUsed, double Estimate, double Lower, double Upper, double Truth, double Margin)
{
    public bool Covered => Lower <= Truth && Truth <= Upper;
    public bool WithinMargin => Math.Abs(Estimate - Truth) <= Margin * Truth;
}

/// <summary>Rates over many runs, each with its binomial standard error.</summary>
internal sealed record StoppingSummary(int Runs, double Coverage, double WithinMargin, double StopRate, double CoverageWhenStopped,
    double WithinMarginWhenStopped, double MeanChunks, double MeanFraction)
{
    public static double StandardError(double rate, int runs) => Math.Sqrt(Math.Max(rate * (1 - rate), 0) / runs);

    public double CoverageSe => StandardError(Coverage, Runs);
    public double WithinMarginSe => StandardError(WithinMargin, Runs);

    public static StoppingSummary Of(IReadOnlyList<StoppingRun> runs)
    {
        var stopped = runs.Where(r => r.Stopped).ToList();
        return new StoppingSummary(runs.Count,
            runs.Average(r => r.Covered ? 1.0 : 0), runs.Average(r => r.WithinMargin ? 1.0 : 0), (double)stopped.Count / runs.Count,
            stopped.Count == 0 ? double.NaN : stopped.Average(r => r.Covered ? 1.0 : 0),
            stopped.Count == 0 ? double.NaN : stopped.Average(r => r.WithinMargin ? 1.0 : 0),
            runs.Average(r => r.ChunksUsed), runs.Average(r => (double)r.ChunksUsed / r.TotalChunks));
    }

    public override string ToString() =>
        $"runs {Runs}: coverage {Coverage:P1} ± {CoverageSe:P1}, within margin {WithinMargin:P1} ± {WithinMarginSe:P1}; stopped {StopRate:P0} "
        + $"(coverage {CoverageWhenStopped:P1}, within margin {WithinMarginWhenStopped:P1} of those); mean chunks {MeanChunks:F1} ({MeanFraction:P0} of the range)";
}

/// <summary>
/// Replays stopping rules on stored per-chunk KLD: each run takes a window of consecutive chunks of the text (random
/// start and length, as a user's evaluation text would be) whose full Score is the truth, then stops as the rule says.
/// </summary>
internal static class StoppingSimulation
{
    /// <summary>A random window of at least <paramref name="minLength"/> consecutive chunks, in text order.</summary>
    public static IReadOnlyList<double[]> Window(IReadOnlyList<ChunkResult> chunks, int minLength, Random random)
    {
        int length = random.Next(Math.Min(minLength, chunks.Count), chunks.Count + 1);
        int start = random.Next(0, chunks.Count - length + 1);
        return chunks.Skip(start).Take(length).Select(c => c.Kld).ToList();
    }

    public static double Score(IReadOnlyList<double[]> chunks) =>
        BlockBootstrap.Score(chunks.Select(c => (ReadOnlyMemory<double>)c).ToArray());

    /// <summary>The shipped rule: seeded random order, geometric looks, spent confidence, finite-population correction.</summary>
    public static StoppingRun Sequential(IReadOnlyList<double[]> window, EarlyStoppingOptions options, ulong orderSeed)
    {
        double truth = Score(window);
        var order = ChunkOrder.Shuffled(Enumerable.Range(0, window.Count).ToArray(), orderSeed);
        var rule = new EarlyStoppingRule(window.Count, options);
        foreach (int n in rule.Looks)
        {
            var look = rule.Evaluate(order.Take(n).Select(i => (ReadOnlyMemory<double>)window[i]).ToArray());
            if (look.Stop) return new StoppingRun(window.Count, true, n, look.Estimate, look.Lower, look.Upper, truth, options.Margin);
        }
        return new StoppingRun(window.Count, false, window.Count, truth, truth, truth, truth, options.Margin);
    }

    /// <summary>The rule before issue #11: text order, a look after every chunk from the minimum on, the plain percentile interval.</summary>
    public static StoppingRun TextOrderEveryChunk(IReadOnlyList<double[]> window, double margin, int minChunks, BootstrapOptions bootstrap)
    {
        double truth = Score(window);
        for (int n = minChunks; n < window.Count; n++)
        {
            var interval = BlockBootstrap.ScoreInterval(window.Take(n).Select(c => (ReadOnlyMemory<double>)c).ToArray(), bootstrap);
            if (interval.IsWithinMargin(margin)) return new StoppingRun(window.Count, true, n, interval.Estimate, interval.Lower, interval.Upper, truth, margin);
        }
        return new StoppingRun(window.Count, false, window.Count, truth, truth, truth, truth, margin);
    }

    /// <summary>Runs <paramref name="runs"/> simulations in parallel; run r draws its window and seed from <c>seed + r</c> alone.</summary>
    public static IReadOnlyList<StoppingRun> Many(int runs, int seed, Func<Random, StoppingRun> run)
    {
        var result = new StoppingRun[runs];
        Parallel.For(0, runs, new ParallelOptions { MaxDegreeOfParallelism = 2 }, r => result[r] = run(new Random(seed + r)));
        return result;
    }
}
