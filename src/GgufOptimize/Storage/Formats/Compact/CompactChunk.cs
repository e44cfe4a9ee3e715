namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>
/// The compact encoding of one chunk: per position the number of stored tokens, the tail mass, the row's log
/// normalizer (max + log Σ e^(x − max), double) and the next token's logit; the stored tokens' ids and float32 logits
/// follow each other position by position. Storing the model's own float32 logits and a double normalizer keeps
/// log P_i = x_i − normalizer as exact as the full computation. A non-finite baseline row has count 0 and NaN tail mass.
/// </summary>
internal sealed class CompactChunk
{
    private int[] _counts;
    private float[] _tail;
    private double[] _logNorm;
    private float[] _next;
    private int[] _ids;
    private float[] _logits;

    public int Rows { get; private set; }
    public int Entries { get; private set; }

    public CompactChunk(int expectedRows = 0, int expectedEntries = 0)
    {
        _counts = new int[Math.Max(1, expectedRows)];
        _tail = new float[_counts.Length];
        _logNorm = new double[_counts.Length];
        _next = new float[_counts.Length];
        _ids = new int[Math.Max(16, expectedEntries)];
        _logits = new float[_ids.Length];
    }

    public ReadOnlySpan<int> Counts => _counts.AsSpan(0, Rows);
    public ReadOnlySpan<float> TailMass => _tail.AsSpan(0, Rows);
    public ReadOnlySpan<double> LogNorm => _logNorm.AsSpan(0, Rows);
    public ReadOnlySpan<float> NextLogit => _next.AsSpan(0, Rows);
    public ReadOnlySpan<int> Ids => _ids.AsSpan(0, Entries);
    public ReadOnlySpan<float> Logits => _logits.AsSpan(0, Entries);

    public void Clear()
    {
        Rows = 0;
        Entries = 0;
    }

    /// <summary>Appends one position; the entry spans are filled by the caller right after (see <see cref="ReserveEntries"/>).</summary>
    public void AddRow(int count, float tailMass, double logNorm, float nextLogit)
    {
        if (Rows == _counts.Length)
        {
            Array.Resize(ref _counts, Rows * 2);
            Array.Resize(ref _tail, Rows * 2);
            Array.Resize(ref _logNorm, Rows * 2);
            Array.Resize(ref _next, Rows * 2);
        }
        _counts[Rows] = count;
        _tail[Rows] = tailMass;
        _logNorm[Rows] = logNorm;
        _next[Rows] = nextLogit;
        Rows++;
    }

    /// <summary>Space for <paramref name="count"/> more entries (ids, logits), committed at once.</summary>
    public void ReserveEntries(int count, out Span<int> ids, out Span<float> logits)
    {
        if (Entries + count > _ids.Length)
        {
            int size = Math.Max(_ids.Length * 2, Entries + count);
            Array.Resize(ref _ids, size);
            Array.Resize(ref _logits, size);
        }
        int start = Entries;
        Entries += count;
        ids = _ids.AsSpan(start, count);
        logits = _logits.AsSpan(start, count);
    }

    /// <summary>Appends a whole stored chunk (when reading a file back).</summary>
    public void AddRange(ReadOnlySpan<int> counts, ReadOnlySpan<float> tail, ReadOnlySpan<double> logNorm, ReadOnlySpan<float> next, ReadOnlySpan<int> ids, ReadOnlySpan<float> logits)
    {
        for (int r = 0; r < counts.Length; r++) AddRow(counts[r], tail[r], logNorm[r], next[r]);
        ReserveEntries(ids.Length, out var i, out var l);
        ids.CopyTo(i);
        logits.CopyTo(l);
    }
}
