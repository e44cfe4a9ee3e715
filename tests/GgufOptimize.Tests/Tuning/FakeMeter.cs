using GgufOptimize.Tuning;

namespace GgufOptimize.Tests.Tuning;

/// <summary>
/// A meter with a chosen true speed per setting and multiplicative noise, for testing the search's rules without an
/// engine; it remembers every trial so tests can check what was measured.
/// </summary>
internal sealed class FakeMeter(Func<TuningSetting, double> trueSpeed, double noise, int seed) : IThroughputMeter
{
    private readonly Random _random = new(seed);
    public List<(TuningSetting Setting, double Rate)> Trials { get; } = [];

    public double Measure(TuningSetting setting)
    {
        double rate = trueSpeed(setting) * (1 + noise * (2 * _random.NextDouble() - 1));
        Trials.Add((setting, rate));
        return rate;
    }

    /// <summary>A speed landscape with a random value per setting (the same for the same seed).</summary>
    public static Func<TuningSetting, double> RandomLandscape(int seed) =>
        s => 1000 * (0.5 + new Random(HashCode.Combine(seed, s.Batch, s.UBatch, s.Threads)).NextDouble());
}
