using GgufOptimize.Metrics;
using GgufOptimize.Storage;

namespace GgufOptimize.Kld;

/// <summary>What a comparison found: overall and per-chunk statistics and how it ended.</summary>
internal sealed record KldJobResult
{
    public required string OutputFile { get; init; }
    public required KldStatistics Overall { get; init; }
    public required IReadOnlyList<ChunkResult> Chunks { get; init; }
    public required ComparisonProvenance Provenance { get; init; }
    /// <summary>Chunks of the requested range missing from the baseline (compared without them).</summary>
    public required IReadOnlyList<int> MissingBaselineChunks { get; init; }
    /// <summary>Whether early stopping was on, where and why the run ended, and the interval of the full range's Score.</summary>
    public EarlyStoppingRecord EarlyStopping => Provenance.EarlyStopping;
    public int ChunksComputed { get; init; }
    public int ChunksReused { get; init; }
}
