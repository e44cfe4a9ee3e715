using GgufOptimize.Chunking;
using GgufOptimize.Metrics;
using GgufOptimize.Storage;

namespace GgufOptimize.Kld;

/// <summary>
/// Settings of one comparison (the equivalent of kl_d_bench.py / compare_logits.py). Exactly one baseline
/// (stored logits or a model with a dataset) and one target (a model or stored logits).
/// </summary>
internal sealed record KldJobOptions
{
    public string? BaselineLogits { get; init; }
    public string? BaselineModel { get; init; }
    public string? TargetModel { get; init; }
    public string? TargetLogits { get; init; }
    public string? Dataset { get; init; }
    public required string OutputFile { get; init; }
    /// <summary>With a baseline model: also store its logits here (otherwise only the current chunk exists).</summary>
    public string? KeepLogits { get; init; }
    /// <summary>With a target model: also store its logits here, in the baseline format (kl_d_bench's --target-logits-output).</summary>
    public string? TargetLogitsOutput { get; init; }
    /// <summary>Generated logits files (<see cref="KeepLogits"/>, <see cref="TargetLogitsOutput"/>) keep only this many chunks; null keeps all.</summary>
    public int? Keep { get; init; }
    public int FromChunk { get; init; }
    public int? ToChunk { get; init; }
    /// <summary>--shard K/N: only the K-th of N balanced pieces of [FromChunk, ToChunk), balanced by the baseline's tokens.</summary>
    public ChunkShard? Shard { get; init; }
    public bool Clobber { get; init; }
    /// <summary>Score only positions ≥ this within each chunk (llama-perplexity scores the second half).</summary>
    public int SkipFirst { get; init; }
    public bool EarlyStopping { get; init; }
    public double Confidence { get; init; } = 0.95;
    public double MarginOfError { get; init; } = 0.05;
    public int MinChunks { get; init; } = EarlyStoppingOptions.DefaultMinChunks;
    public int Resamples { get; init; } = Metrics.BootstrapOptions.DefaultResamples;
    /// <summary>Seed of the early-stopping chunk order and of its bootstrap.</summary>
    public ulong Seed { get; init; } = 20240607;
    /// <summary>
    /// Compare only the first this many chunks of the range in the seeded random order (<see cref="Seed"/>): the chunks
    /// an early-stopped comparison with the same seed used, so later comparisons are scored on the same text.
    /// </summary>
    public int? SampleChunks { get; init; }
    public int ContextSize { get; init; }
    public int BatchSize { get; init; }
    public int UBatchSize { get; init; }
    public int Threads { get; init; }
    /// <summary>--tuning: the tune.json the batch/threads came from, checked against the model and context that run.</summary>
    public GgufOptimize.Tuning.StoredTuning? Tuning { get; init; }
    /// <summary>GPU placement, memory mapping, attention, cache types and RoPE (llama.cpp's defaults unless given).</summary>
    public GgufOptimize.Engine.EngineSettings Engine { get; init; } = GgufOptimize.Engine.EngineSettings.Default;
    /// <summary>The caller's name for the end of the range, used in errors (<c>iterate</c> says --eval-chunks).</summary>
    public string ToChunkOption { get; init; } = ChunkRange.ToOption;
    /// <summary><c>iterate</c>'s labels, written with the comparison (the file is written once).</summary>
    public ComparisonLabels? Labels { get; init; }
}
