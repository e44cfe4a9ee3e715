namespace GgufOptimize.Recipes;

/// <summary>Settings of one sensitivity run (see docs/sensitivity.md).</summary>
internal sealed record SensitivityOptions
{
    public required string ModelPath { get; init; }
    public required string BaselineLogits { get; init; }
    /// <summary>Candidate ggml tensor types (Q2_K, Q4_K, Q8_0, ...).</summary>
    public required IReadOnlyList<string> Types { get; init; }
    public string? ImatrixPath { get; init; }
    public GroupingMode Grouping { get; init; } = GroupingMode.Layer;
    /// <summary>The table (JSON); CSV, Markdown and heat maps are written next to it.</summary>
    public required string OutputPath { get; init; }
    /// <summary>Folder of finished measurements; null = the output path without extension plus ".work".</summary>
    public string? WorkDirectory { get; init; }
    /// <summary>Chunks of the baseline scored for every measurement: the first this many of a seeded random order.</summary>
    public int Chunks { get; init; } = 8;
    public ulong Seed { get; init; } = 20240607;
    /// <summary>Stop each measurement once its increase is decided (null = compare every chunk of the sample).</summary>
    public SensitivityStopping? EarlyStopping { get; init; }
    /// <summary>How every comparison runs llama.cpp (threads, sizes, engine settings).</summary>
    public GgufOptimize.Engine.EvaluationSettings Evaluation { get; init; } = GgufOptimize.Engine.EvaluationSettings.Default;
}
