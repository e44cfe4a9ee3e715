using GgufOptimize.Engine;

namespace GgufOptimize.Tuning;

/// <summary>What <see cref="TuneJob"/> measures and where it writes the result.</summary>
internal sealed record TuneOptions
{
    public required string ModelPath { get; init; }
    /// <summary>Text whose tokens are decoded; null = seeded random tokens of the model's vocabulary (speed does not depend on the words).</summary>
    public string? DatasetPath { get; init; }
    public required string OutputPath { get; init; }
    /// <summary>Tokens per chunk; 0 = the model's training context capped as for logits and kld.</summary>
    public int ContextSize { get; init; }
    /// <summary>Threads fixed by the user (not searched); 0 = search them.</summary>
    public int Threads { get; init; }
    public EngineSettings Engine { get; init; } = EngineSettings.Default;
    /// <summary>Chunks decoded per timed trial; 0 = enough for <see cref="TuneJob.MinTokensPerTrial"/> tokens and <see cref="TuneJob.MinSecondsPerTrial"/> at the defaults.</summary>
    public int ChunksPerTrial { get; init; }
    public TuningRule Rule { get; init; } = new();
    public int MaxTrials { get; init; } = TuningSearch.DefaultMaxTrials;
    /// <summary>Replace an existing output file.</summary>
    public bool Overwrite { get; init; }
}
