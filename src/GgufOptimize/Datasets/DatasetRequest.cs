using GgufOptimize.Datasets.Selection;
using GgufOptimize.Datasets.Sources;

namespace GgufOptimize.Datasets;

/// <summary>
/// What to select from which sources. Sizes are either samples (<see cref="NumSamples"/>: per language at equal
/// weight, so with three languages 200 means 600 samples split by the weights) or tokens (<see cref="NumTokens"/>:
/// total, split by the weights, counted with <see cref="Tokenizer"/>).
/// </summary>
internal sealed record DatasetRequest
{
    public required IReadOnlyList<IDatasetSource> Sources { get; init; }
    /// <summary>Languages to keep, in this order; null treats every sample as one group regardless of language.</summary>
    public IReadOnlyList<string>? Languages { get; init; }
    /// <summary>Relative weight per language (others default to 1); equal shares when null.</summary>
    public IReadOnlyDictionary<string, double>? Weights { get; init; }
    public long? NumSamples { get; init; }
    public long? NumTokens { get; init; }
    /// <summary>Nested subset sizes in the selection's unit; the largest is the whole selection.</summary>
    public IReadOnlyList<long>? Subsets { get; init; }
    /// <summary>Samples per language (at equal weight) to leave out at the start of the sample order, to extend an earlier dataset.</summary>
    public long SkipSamples { get; init; }
    public int MinChars { get; init; } = 1;
    public int? MaxChars { get; init; }
    public bool Deduplicate { get; init; } = true;
    /// <summary>Order samples within each language by a seeded content hash instead of source order (reads every source to the end).</summary>
    public bool Shuffle { get; init; }
    public long Seed { get; init; }
    public ITokenCounter? Tokenizer { get; init; }
    public InvalidUtf8Policy InvalidUtf8 { get; init; } = InvalidUtf8Policy.Replace;
    public int MaxSampleBytes { get; init; } = SourceReadContext.DefaultMaxSampleBytes;
}
