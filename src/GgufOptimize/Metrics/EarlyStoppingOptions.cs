using GgufOptimize.Common;

namespace GgufOptimize.Metrics;

/// <summary>Settings of <see cref="EarlyStoppingRule"/>.</summary>
/// <param name="Margin">Stop once the Score is known to within ±Margin (relative) at the stated confidence.</param>
/// <param name="MinChunks">Chunks compared before the first look.</param>
/// <param name="Bootstrap">Resamples, seed and overall confidence (shared by every look) of the block bootstrap.</param>
internal sealed record EarlyStoppingOptions(double Margin, int MinChunks, BootstrapOptions Bootstrap)
{
    /// <summary>
    /// The first look's chunk count. With fewer chunks the bootstrap's spread understates the Score's (its tail
    /// quantiles rest on a few dozen tokens): in the simulation on real comparisons (docs/early-stopping.md) a first
    /// look at 4 chunks covered the full Score only 90–95 % of the time, at 8 about 97 %, at 16 at least 98 %.
    /// </summary>
    public const int DefaultMinChunks = 16;

    public const double DefaultMargin = 0.05;

    /// <summary>Each look comes at least this factor more chunks after the previous one, so a run makes few looks.</summary>
    public const double LookGrowth = 1.5;

    internal void Validate()
    {
        Bootstrap.Validate();
        if (!(Margin > 0 && Margin < 1))
            throw GgufOptimizeException.BadInput($"early-stopping margin must be between 0 and 1 (exclusive), got {Margin}");
        if (MinChunks < 2)
            throw GgufOptimizeException.BadInput($"early-stopping minimum must be at least 2 chunks, got {MinChunks}");
    }
}
