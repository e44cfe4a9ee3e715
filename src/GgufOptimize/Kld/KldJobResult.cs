using GgufOptimize.Metrics;
using GgufOptimize.Storage;

namespace GgufOptimize.Kld;

/// <summary>What a comparison found: overall and per-chunk statistics and how it ended.</summary>
public sealed record KldJobResult
{
    public required string OutputFile { get; init; }
    public required KldStatistics Overall { get; init; }
    public required IReadOnlyList<ChunkResult> Chunks { get; init; }
    public required ComparisonProvenance Provenance { get; init; }
    /// <summary>Chunks of the requested range missing from the baseline (compared without them).</summary>
    public required IReadOnlyList<int> MissingBaselineChunks { get; init; }
    /// <summary>Set when early stopping ended the run: chunks used and the interval that satisfied the rule.</summary>
    public ScoreInterval? StoppingInterval { get; init; }
    public int? StoppedAfterChunks { get; init; }
    public int ChunksComputed { get; init; }
    public int ChunksReused { get; init; }
}
