using GgufOptimize.Chunking;

namespace GgufOptimize.Tuning;

/// <summary>One row of the measured table: a setting, the median of its trials, how many, and its speed relative to the defaults' median.</summary>
internal sealed record TuningRow(TuningSetting Setting, double TokensPerSecond, int Repeats, double? RelativeToDefaults);

/// <summary>Everything a tune run measured and recommends: what tune.json holds and the command prints.</summary>
internal sealed record TuneResult
{
    public required string OutputPath { get; init; }
    public required ModelIdentity Model { get; init; }
    public required int ContextSize { get; init; }
    /// <summary>The engine options that differ from llama.cpp's defaults (key=value;...), as <see cref="Engine.EngineSettings.LogitsKey"/> writes them.</summary>
    public required string EngineOptions { get; init; }
    public required MachineDescription Machine { get; init; }
    /// <summary>Where the decoded tokens came from (a dataset file name, or random tokens).</summary>
    public required string TextSource { get; init; }
    public required int ChunksPerTrial { get; init; }
    public required long TokensPerTrial { get; init; }
    public required TuningRule Rule { get; init; }
    public required int MaxTrials { get; init; }
    public required int Trials { get; init; }
    public required int WarmUps { get; init; }
    public required TuningStop Stop { get; init; }
    public required bool ThreadsSearched { get; init; }
    public required TuningSetting Defaults { get; init; }
    public required TuningSetting Recommended { get; init; }
    /// <summary>Median paired speed of the recommendation over the defaults in the final check (1 when the defaults are recommended).</summary>
    public required double SpeedupOverDefaults { get; init; }
    public required IReadOnlyList<TuningRow> Table { get; init; }
    public required IReadOnlyList<TuningComparison> Comparisons { get; init; }
    public TuningComparison? Confirmation { get; init; }
    public required DateTime CreatedUtc { get; init; }
    public required double Seconds { get; init; }
}
