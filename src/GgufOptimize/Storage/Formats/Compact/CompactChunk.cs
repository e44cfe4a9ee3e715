namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>
/// The compact encoding of one chunk: per position the number of stored tokens, the tail mass and log P(next);
/// the stored tokens' ids and log-probabilities follow each other position by position.
/// A position whose baseline row was not finite has count 0 and NaN tail mass.
/// </summary>
public sealed class CompactChunk
{
    private int[] _counts;
    private float[] _tail;
    private float[] _next;
    private int[] _ids;
    private float[] _logProbs;

    public int Rows { get; private set; }
    public int Entries { get; private set; }

    public CompactChunk(int expectedRows = 0, int expectedEntries = 0)
    {
        _counts = new int[Math.Max(1, expectedRows)];
        _tail = new float[_counts.Length];
        _next = new float[_counts.Length];
        _ids = new int[Math.Max(16, expectedEntries)];
        _logProbs = new float[_ids.Length];
    }

    public ReadOnlySpan<int> Counts => _counts.AsSpan(0, Rows);
    public ReadOnlySpan<float> TailMass => _tail.AsSpan(0, Rows);
    public ReadOnlySpan<float> NextLogProb => _next.AsSpan(0, Rows);
    public ReadOnlySpan<int> Ids => _ids.AsSpan(0, Entries);
    public ReadOnlySpan<float> LogProbs => _logProbs.AsSpan(0, Entries);

    public void Clear()
    {
        Rows = 0;
        Entries = 0;
    }

    /// <summary>Appends one position; the entry spans are filled by the caller right after (see <see cref="ReserveEntries"/>).</summary>
    public void AddRow(int count, float tailMass, float nextLogProb)
    {
        if (Rows == _counts.Length)
        {
            Array.Resize(ref _counts, Rows * 2);
            Array.Resize(ref _tail, Rows * 2);
            Array.Resize(ref _next, Rows * 2);
        }
        _counts[Rows] = count;
        _tail[Rows] = tailMass;
        _next[Rows] = nextLogProb;
        Rows++;
    }

    /// <summary>Space for <paramref name="count"/> more entries (ids, log-probabilities), committed at once.</summary>
    public void ReserveEntries(int count, out Span<int> ids, out Span<float> logProbs)
    {
        if (Entries + count > _ids.Length)
        {
            int size = Math.Max(_ids.Length * 2, Entries + count);
            Array.Resize(ref _ids, size);
            Array.Resize(ref _logProbs, size);
        }
        int start = Entries;
        Entries += count;
        ids = _ids.AsSpan(start, count);
        logProbs = _logProbs.AsSpan(start, count);
    }

    /// <summary>Appends a whole stored chunk (when reading a file back).</summary>
    public void AddRange(ReadOnlySpan<int> counts, ReadOnlySpan<float> tail, ReadOnlySpan<float> next, ReadOnlySpan<int> ids, ReadOnlySpan<float> logProbs)
    {
        for (int r = 0; r < counts.Length; r++) AddRow(counts[r], tail[r], next[r]);
        ReserveEntries(ids.Length, out var i, out var l);
        ids.CopyTo(i);
        logProbs.CopyTo(l);
    }
}
