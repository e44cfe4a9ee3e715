using GgufOptimize.Common;
using GgufOptimize.Metrics;

namespace GgufOptimize.Recipes;

/// <summary>
/// Early stopping of one sensitivity measurement, on the statistics <c>kld</c>'s early stopping uses: the chunks of the
/// sample are compared in their seeded random order, so every prefix is a simple random sample of them; the rule looks
/// only at the counts of <see cref="EarlyStoppingRule.Schedule"/> (K looks, fixed before the first chunk), each look's
/// interval has confidence 1 − α/K (so all of them hold together with probability ≥ 1 − α), and the half-width carries
/// the finite-population correction √((N − n)/(N − 1)). What is estimated is the paired mean-KLD increase over the
/// reference on the whole sample (<see cref="PairedDifference"/>: chunk-level standard error). The measurement stops
/// once that interval lies within ±<see cref="Margin"/> of the increase (relative, as <c>kld</c>'s margin); an increase
/// that is zero, negative or noise never stops early, because no relative margin can be met around it.
/// </summary>
/// <param name="Margin">Relative half-width of the increase's interval that stops a measurement.</param>
/// <param name="MinChunks">Chunks compared before the first look.</param>
/// <param name="Confidence">Joint confidence of all looks.</param>
internal sealed record SensitivityStopping(double Margin, int MinChunks, double Confidence)
{
    public const double DefaultMargin = 0.1;
    public const int DefaultMinChunks = 8;

    public void Validate()
    {
        if (!(Margin > 0 && Margin < 1)) throw GgufOptimizeException.BadInput($"--margin-of-error must be between 0 and 1 (exclusive), got {Margin}");
        if (MinChunks < 2) throw GgufOptimizeException.BadInput($"--min-chunks must be at least 2, got {MinChunks}");
        if (!(Confidence > 0 && Confidence < 1)) throw GgufOptimizeException.BadInput($"--confidence must be between 0 and 1, got {Confidence}");
    }

    /// <summary>Chunk counts at which a measurement on <paramref name="total"/> chunks looks.</summary>
    public IReadOnlyList<int> Looks(int total) => EarlyStoppingRule.Schedule(MinChunks, total);

    /// <summary>The increase's interval after the mix's chunks so far (a prefix of the sample of <paramref name="total"/>).</summary>
    public (double Delta, double HalfWidth, bool Stop) Look(IReadOnlyList<ChunkMean> mix, IReadOnlyList<ChunkMean> reference, int total)
    {
        var (delta, se) = PairedDifference.Of(mix, reference);
        int looks = Math.Max(1, Looks(total).Count);
        double z = NormalDistribution.Quantile(1 - (1 - Confidence) / (2.0 * looks));
        double fpc = total > 1 ? Math.Sqrt((double)(total - mix.Count) / (total - 1)) : 0;
        double half = z * se * fpc;
        bool stop = delta > 0 && double.IsFinite(half) && half <= Margin * delta;
        return (delta, half, stop);
    }

    /// <summary>The settings as one line of the work folder's identity (measurements under another rule are not mixed in).</summary>
    public string Key() => FormattableString.Invariant($"early stopping margin {Margin} min {MinChunks} confidence {Confidence}");
}
