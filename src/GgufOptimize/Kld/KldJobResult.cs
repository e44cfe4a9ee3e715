using GgufOptimize.Metrics;

namespace GgufOptimize.Kld;

/// <summary>What a comparison found: overall and per-chunk statistics and how it ended.</summary>
public sealed record KldJobResult
{
    public required string OutputFile { get; init; }
    public required KldStatistics Overall { get; init; }
    public required IReadOnlyList<ChunkResult> Chunks { get; init; }
    public required IReadOnlyDictionary<string, string> Provenance { get; init; }
    /// <summary>Chunks of the requested range missing from the baseline (compared without them).</summary>
    public required IReadOnlyList<int> MissingBaselineChunks { get; init; }
    /// <summary>Whether early stopping was on, where and why the run ended, and the interval of the full range's Score.</summary>
    public required EarlyStoppingOutcome EarlyStopping { get; init; }
    public int ChunksComputed { get; init; }
    public int ChunksReused { get; init; }
}
