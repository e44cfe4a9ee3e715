using GgufOptimize.Metrics;

namespace GgufOptimize.Tests.Metrics.Stopping;

/// <summary>How often a paired comparison called the difference significant, and in which direction.</summary>
internal sealed record PairedSummary(int Runs, double Significant, double BBetter, double BWorse)
{
    public double SignificantSe => StoppingSummary.StandardError(Significant, Runs);
    public double BBetterSe => StoppingSummary.StandardError(BBetter, Runs);

    public static PairedSummary Of(IReadOnlyList<PairedScoreComparison> runs) => new(runs.Count,
        runs.Average(r => r.IsSignificant ? 1.0 : 0), runs.Average(r => r.DifferenceUpper < 0 ? 1.0 : 0), runs.Average(r => r.DifferenceLower > 0 ? 1.0 : 0));

    public override string ToString() =>
        $"runs {Runs}: significant {Significant:P1} ± {SignificantSe:P1} (B better {BBetter:P1}, B worse {BWorse:P1})";
}

/// <summary>
/// Paired comparisons replayed on text-order windows of two real comparisons of the same chunks. Equal-quality pairs are
/// built by swapping the two sides' labels on random blocks of consecutive chunks: the two sides are then exchangeable
/// (their Scores have the same distribution) while each keeps the text's chunk-to-chunk structure within a block.
/// </summary>
internal static class PairedSimulation
{
    /// <summary>Start of a random window of <paramref name="length"/> consecutive chunks.</summary>
    public static int WindowStart(int total, int length, Random random) => random.Next(0, total - length + 1);

    /// <summary>A and B over chunks [start, start+length) of x and y.</summary>
    public static (IReadOnlyList<ChunkResult> A, IReadOnlyList<ChunkResult> B) Window(IReadOnlyList<ChunkResult> x, IReadOnlyList<ChunkResult> y, int start, int length) =>
        (x.Skip(start).Take(length).ToList(), y.Skip(start).Take(length).ToList());

    /// <summary>Each block of <paramref name="block"/> consecutive chunks comes from x on one side and y on the other, by a fair coin.</summary>
    public static (IReadOnlyList<ChunkResult> A, IReadOnlyList<ChunkResult> B) Exchangeable(IReadOnlyList<ChunkResult> x, IReadOnlyList<ChunkResult> y, int block, Random random)
    {
        var a = new List<ChunkResult>(x.Count);
        var b = new List<ChunkResult>(x.Count);
        bool swap = false;
        for (int i = 0; i < x.Count; i++)
        {
            if (i % block == 0) swap = random.Next(2) == 1;
            a.Add(swap ? y[i] : x[i]);
            b.Add(swap ? x[i] : y[i]);
        }
        return (a, b);
    }

    public static IReadOnlyList<PairedScoreComparison> Many(int runs, int seed, Func<Random, PairedScoreComparison> run)
    {
        var result = new PairedScoreComparison[runs];
        Parallel.For(0, runs, new ParallelOptions { MaxDegreeOfParallelism = 2 }, r => result[r] = run(new Random(seed + r)));
        return result;
    }
}
