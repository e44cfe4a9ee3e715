using GgufOptimize.Common;

namespace GgufOptimize.Metrics;

/// <summary>Settings of the chunk block bootstrap. The same options and inputs always give the same interval.</summary>
/// <param name="Resamples">Number of bootstrap resamples B.</param>
/// <param name="Confidence">Two-sided confidence c of the percentile interval, in (0, 1).</param>
/// <param name="Seed">Seed of the resampling; fixed seed ⇒ identical results on any machine and thread count.</param>
/// <param name="Threads">Resamples are spread over this many threads (results do not depend on it).</param>
internal sealed record BootstrapOptions(int Resamples = BootstrapOptions.DefaultResamples, double Confidence = 0.95, ulong Seed = 20240607, int Threads = 1)
{
    /// <summary>What every command uses unless told otherwise.</summary>
    public const int DefaultResamples = 1000;

    /// <summary>Fewer resamples put the percentile interval's ends on a handful of order statistics.</summary>
    public const int MinResamples = 100;

    /// <summary>The one check of a resample count; <paramref name="name"/> is the caller's option or plan key.</summary>
    public static void CheckResamples(int resamples, string name)
    {
        if (resamples < MinResamples) throw GgufOptimizeException.BadInput($"{name} must be at least {MinResamples} (got {resamples})");
    }

    internal void Validate()
    {
        CheckResamples(Resamples, "bootstrap resamples");
        if (!(Confidence > 0 && Confidence < 1))
            throw GgufOptimizeException.BadInput($"bootstrap confidence must be between 0 and 1 (exclusive), got {Confidence}");
        if (Threads < 1)
            throw GgufOptimizeException.BadInput($"bootstrap threads must be at least 1, got {Threads}");
    }
}
