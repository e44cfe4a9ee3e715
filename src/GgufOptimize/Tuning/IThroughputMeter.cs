namespace GgufOptimize.Tuning;

/// <summary>Runs one timed trial of decode work at a setting and says how fast it went (tokens per second).</summary>
internal interface IThroughputMeter
{
    /// <summary>Tokens decoded per second in one trial at <paramref name="setting"/>.</summary>
    double Measure(TuningSetting setting);
}
