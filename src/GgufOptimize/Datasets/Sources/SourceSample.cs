namespace GgufOptimize.Datasets.Sources;

/// <summary>
/// One text as a source yields it, before trimming, length filters or de-duplication.
/// <paramref name="Language"/> is null when the source cannot tell (no language field and no tag).
/// </summary>
public readonly record struct SourceSample(string Text, string? Language);
