namespace GgufOptimize.Metrics;

/// <summary>
/// All KLD values of a chunk set, sorted once, each tagged with its chunk. A block-bootstrap resample is a count
/// per chunk; its quantiles are read by walking the sorted pool from the top and adding each value's chunk count,
/// which yields exactly the order statistics of the concatenated resample (no re-sorting, no approximation).
/// </summary>
internal sealed class PooledKld
{
    private readonly double[] _values;   // ascending
    private readonly int[] _owner;       // chunk of each value
    private readonly int[] _chunkSizes;

    public int Chunks => _chunkSizes.Length;

    public PooledKld(IReadOnlyList<ReadOnlyMemory<double>> chunks)
    {
        _chunkSizes = new int[chunks.Count];
        long total = 0;
        for (int c = 0; c < chunks.Count; c++) { _chunkSizes[c] = chunks[c].Length; total += chunks[c].Length; }
        var values = new double[checked((int)total)];
        var owner = new int[values.Length];
        int k = 0;
        for (int c = 0; c < chunks.Count; c++)
        {
            foreach (var v in chunks[c].Span) { values[k] = v; owner[k] = c; k++; }
        }
        Array.Sort(values, owner);
        _values = values;
        _owner = owner;
    }

    /// <summary>The composite score of the multiset holding weights[c] copies of chunk c.</summary>
    public double Score(ReadOnlySpan<int> weights)
    {
        long total = 0;
        for (int c = 0; c < _chunkSizes.Length; c++) total += (long)weights[c] * _chunkSizes[c];
        if (total == 0) return double.NaN;

        // Order statistics needed by Median, KLD_90, KLD_95 and KLD_99, as ranks counted from the top.
        ReadOnlySpan<double> fractions = [CompositeScore.Q99, CompositeScore.Q95, CompositeScore.Q90, CompositeScore.Q50];
        Span<long> lower = stackalloc long[4];
        Span<double> weight = stackalloc double[4];
        Span<long> targets = stackalloc long[8];
        for (int q = 0; q < 4; q++)
        {
            (lower[q], weight[q]) = Quantiles.Position(total, fractions[q]);
            targets[2 * q] = total - 1 - Math.Min(lower[q] + 1, total - 1);
            targets[2 * q + 1] = total - 1 - lower[q];
        }
        // Visit the targets in ascending top-rank (for tiny totals two quantiles can share or swap ranks).
        Span<int> order = [0, 1, 2, 3, 4, 5, 6, 7];
        for (int a = 1; a < 8; a++)
            for (int b = a; b > 0 && targets[order[b]] < targets[order[b - 1]]; b--)
                (order[b], order[b - 1]) = (order[b - 1], order[b]);
        Span<double> found = stackalloc double[8];
        int next = 0;
        long covered = 0;
        for (int i = _values.Length - 1; i >= 0 && next < 8; i--)
        {
            covered += weights[_owner[i]];
            while (next < 8 && targets[order[next]] < covered) found[order[next++]] = _values[i];
        }

        Span<double> quantile = stackalloc double[4];
        for (int q = 0; q < 4; q++)
        {
            double below = found[2 * q + 1], above = found[2 * q];
            quantile[q] = weight[q] == 0 ? below : Quantiles.Interpolate(below, above, weight[q]);
        }
        return CompositeScore.Compute(quantile[3], quantile[0], quantile[1], quantile[2]);
    }
}
