using System.Globalization;
using GgufOptimize.Common;

namespace GgufOptimize.Chunking;

/// <summary>
/// Shard <see cref="Index"/> of <see cref="Count"/> (<c>--shard K/N</c>, K counted from 0 like Slurm's
/// <c>SLURM_ARRAY_TASK_ID</c> for <c>--array=0-(N-1)</c> and Kubernetes' <c>JOB_COMPLETION_INDEX</c>): one of N
/// contiguous, non-overlapping pieces of a chunk range that together cover it exactly. Pieces are balanced by weight
/// (the tokens each chunk scores), so the last, shorter chunk does not make one shard lighter than the rest; with
/// equal weights this is a split by count. The split depends only on the range and the weights, so every machine
/// that computes it agrees without talking to the others.
/// </summary>
/// <param name="Index">K, counted from 0.</param>
/// <param name="Count">N, the number of shards.</param>
internal readonly record struct ChunkShard(int Index, int Count)
{
    /// <summary>The option's name, for messages.</summary>
    public const string Option = "--shard";

    /// <summary>"K/N".</summary>
    public override string ToString() => $"{Index}/{Count}";

    /// <summary>Parses "K/N" with 0 ≤ K &lt; N; anything else is a bad-input error naming <c>--shard</c>.</summary>
    public static ChunkShard Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int k)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n))
            throw GgufOptimizeException.BadInput($"{Option} '{text}' is not K/N (K counted from 0, e.g. {Option} 0/4 … {Option} 3/4)");
        if (n < 1) throw GgufOptimizeException.BadInput($"{Option} {text}: N must be at least 1");
        if (k >= n) throw GgufOptimizeException.BadInput($"{Option} {text}: K counts from 0 and must be below N (the last shard of {n} is {n - 1}/{n})");
        return new ChunkShard(k, n);
    }

    /// <summary>
    /// This shard's part of <paramref name="range"/>: boundary j is the chunk boundary whose running weight is nearest
    /// to j/N of the total weight W (computed in exact integers). Chunks of weight 0 (absent from a baseline) travel with their
    /// neighbours. Refused when the range has fewer chunks than shards (a shard would be empty).
    /// </summary>
    public ChunkRange Select(ChunkRange range, Func<int, long> weight)
    {
        if (range.Count < Count)
            throw GgufOptimizeException.BadInput($"{Option} {this}: the range {range.From}..{range.To - 1} has {range.Count} chunk(s), fewer than {Count} shards; use at most {range.Count} shards");
        var cumulative = new long[range.Count + 1];
        for (int i = 0; i < range.Count; i++) cumulative[i + 1] = cumulative[i] + Math.Max(0, weight(range.From + i));
        long total = cumulative[^1];
        // Boundaries in order, each at least one past the previous and leaving a chunk for every later shard.
        var boundary = new int[Count + 1];
        boundary[Count] = range.Count;
        for (int j = 1; j < Count; j++)
        {
            int raw = total == 0 ? (int)((long)j * range.Count / Count) : Nearest(cumulative, (Int128)total * j, Count);
            boundary[j] = Math.Min(Math.Max(raw, boundary[j - 1] + 1), range.Count - (Count - j));
        }
        int lo = boundary[Index], hi = boundary[Index + 1];
        return new ChunkRange(range.From + lo, range.From + hi);
    }

    /// <summary>
    /// The index i whose running weight cumulative[i] is nearest to goal/n (ties: the lower index), in exact integers:
    /// the first index that reaches the goal, or the one before it when that is closer.
    /// </summary>
    private static int Nearest(long[] cumulative, Int128 goal, int n)
    {
        int lo = 0, hi = cumulative.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if ((Int128)cumulative[mid] * n >= goal) hi = mid;
            else lo = mid + 1;
        }
        if (lo > 0 && goal - (Int128)cumulative[lo - 1] * n <= (Int128)cumulative[lo] * n - goal) lo--;
        return lo;
    }
}
