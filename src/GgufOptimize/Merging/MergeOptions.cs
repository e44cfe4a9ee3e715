namespace GgufOptimize.Merging;

/// <summary>What <c>merge</c> combines: shard outputs of one kind into <see cref="Output"/>.</summary>
internal sealed record MergeOptions
{
    /// <summary>The merged file.</summary>
    public required string Output { get; init; }
    /// <summary>The shard outputs, in any order.</summary>
    public required IReadOnlyList<string> Pieces { get; init; }
    /// <summary>Replace an existing output.</summary>
    public bool Overwrite { get; init; }
}

/// <summary>What a merge produced.</summary>
/// <param name="Output">The merged file.</param>
/// <param name="Kind">What the pieces were.</param>
/// <param name="Pieces">How many pieces were merged.</param>
/// <param name="FromChunk">First chunk the merged file holds.</param>
/// <param name="ToChunk">One past the last chunk it holds.</param>
/// <param name="TotalChunks">Chunks of the whole text (the merged file is complete when it holds all of them); null for comparisons, which record only their range.</param>
/// <param name="Seconds">Wall time.</param>
internal sealed record MergeResult(string Output, PieceKind Kind, int Pieces, int FromChunk, int ToChunk, int? TotalChunks, double Seconds)
{
    /// <summary>The merged file holds every chunk of the text.</summary>
    public bool? Complete => TotalChunks is { } total ? FromChunk == 0 && ToChunk == total : null;
}
