namespace GgufOptimize.Metrics;

/// <summary>
/// A chunk's rows seen through the batch at hand: row j (chunk position) is served from the current batch, which
/// holds positions [First, First + batch count); any other row is refused, so a scorer that read outside the batch it
/// was given fails loudly instead of reading stale logits. Lets the whole-chunk scorers run batch by batch unchanged.
/// </summary>
internal sealed class LogitWindow(int chunkRows, int vocabSize) : LogitRows(chunkRows, vocabSize)
{
    private LogitRows? _batch;

    /// <summary>The chunk position of the current batch's first row.</summary>
    public int First { get; private set; }

    /// <summary>One past the current batch's last position.</summary>
    public int End => First + (_batch?.Count ?? 0);

    /// <summary>Serves <paramref name="rows"/> as positions [first, first + rows.Count) until the next call.</summary>
    public void Show(int first, LogitRows rows)
    {
        if (rows.VocabSize != VocabSize)
            throw new ArgumentException($"batch rows have {rows.VocabSize} logits, the chunk's {VocabSize}");
        if (first < 0 || first + rows.Count > Count)
            throw new ArgumentOutOfRangeException(nameof(first), $"batch rows [{first}, {first + rows.Count}) are outside the chunk's {Count} rows");
        First = first;
        _batch = rows;
    }

    public override ReadOnlySpan<float> Row(int index, Span<float> scratch)
    {
        var batch = _batch;
        if (batch is null || index < First || index >= First + batch.Count)
            throw new InvalidOperationException($"row {index} is not in the batch being scored (positions {First}..{End - 1})");
        return batch.Row(index - First, scratch);
    }
}
