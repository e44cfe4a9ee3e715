using System.Globalization;

namespace GgufOptimize.Tuning;

/// <summary>
/// When a challenger counts as better than the incumbent. Both run back to back, in alternating order (challenger
/// first in even pairs, incumbent first in odd ones, so slow drift of the machine favours neither), for
/// <see cref="Repeats"/> pairs. The challenger wins only when it is faster in every pair — a one-sided sign test
/// whose chance of passing by luck between two equally fast settings is 2^-Repeats (3.1 % for 5) — and its median
/// paired speed-up reaches <see cref="MinGain"/>. It is dropped at its first pair that is not faster, which is why
/// most losing candidates cost two trials.
/// </summary>
internal sealed record TuningRule
{
    /// <summary>Paired trials a challenger must win, all of them.</summary>
    public int Repeats { get; init; } = DefaultRepeats;
    /// <summary>Smallest median relative speed-up worth a change (0.02 = 2 %).</summary>
    public double MinGain { get; init; } = DefaultMinGain;

    public const int DefaultRepeats = 5;
    public const double DefaultMinGain = 0.02;

    /// <summary>The chance that a candidate no faster than the incumbent wins every pair by luck.</summary>
    public double FalseWinChance => Math.Pow(0.5, Repeats);

    /// <summary>The rule in words (printed with the results).</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"a candidate replaces the current best only when it is faster in all {Repeats} alternating paired trials (sign test, p = {FalseWinChance:0.###}) and its median paired speed-up is at least {MinGain:P0}");

    /// <summary>What <paramref name="pairs"/> say so far: decided early as soon as one pair is lost.</summary>
    public ComparisonVerdict? Decide(IReadOnlyList<PairedTrial> pairs)
    {
        if (pairs.Any(p => !p.ChallengerFaster)) return ComparisonVerdict.NotBetter;
        if (pairs.Count < Repeats) return null;
        return TuningComparison.Median(pairs.Select(p => p.Ratio)) >= 1 + MinGain ? ComparisonVerdict.Better : ComparisonVerdict.NotBetter;
    }
}
