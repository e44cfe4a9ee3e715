using System.Numerics;
using System.Runtime.Intrinsics;
using GgufOptimize.Metrics;

namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>
/// Encodes one logits row compactly: the most probable tokens, in descending probability (ties: lower id first),
/// until their total probability reaches 1 − ε, with their float32 logits; the remaining tail mass; the row's log
/// normalizer in double; and the next token's logit (see <see cref="CompactChunk"/>).
/// </summary>
internal sealed class CompactRowEncoder
{
    private readonly double _tailMass;
    private ulong[] _keys = new ulong[256];
    private double[] _suffix = new double[257];

    /// <param name="tailMass">ε in (0, 1): at most this much probability is left in the tail bucket.</param>
    public CompactRowEncoder(double tailMass)
    {
        if (!(tailMass > 0 && tailMass < 1)) throw new ArgumentOutOfRangeException(nameof(tailMass), tailMass, "tail mass must be in (0, 1)");
        _tailMass = tailMass;
    }

    public double TailMass => _tailMass;

    /// <summary>Appends the encoding of <paramref name="row"/> to <paramref name="output"/>; nextToken −1 = none.</summary>
    public void Encode(ReadOnlySpan<float> row, int nextToken, CompactChunk output)
    {
        var stats = RowSoftmax.Stats(row);
        if (!stats.Finite)
        {
            output.AddRow(0, float.NaN, double.NaN, float.NaN);
            return;
        }
        var (count, logNorm, tail) = Select(row, stats.Max);
        output.ReserveEntries(count, out var ids, out var logits);
        for (int k = 0; k < count; k++)
        {
            int id = IdOf(_keys[k]);
            ids[k] = id;
            logits[k] = row[id];
        }
        output.AddRow(count, (float)tail, logNorm, nextToken >= 0 ? row[nextToken] : float.NaN);
    }

    /// <summary>
    /// The most probable tokens of a finite row (descending probability, ties: lower id) until the rest holds at most
    /// ε: their ids go to <paramref name="ids"/> (grown as needed; the first count entries), with the row's log
    /// normalizer and the exact tail mass (summed from the smallest term up).
    /// </summary>
    public (int Count, double LogNorm, double Tail) SelectTop(ReadOnlySpan<float> row, float max, ref int[] ids)
    {
        var (count, logNorm, tail) = Select(row, max);
        if (ids.Length < count) ids = new int[Math.Max(count, ids.Length * 2)];
        for (int k = 0; k < count; k++) ids[k] = IdOf(_keys[k]);
        return (count, logNorm, tail);
    }

    private (int Count, double LogNorm, double Tail) Select(ReadOnlySpan<float> row, float max)
    {
        // A first cut keeps tokens within ln ε − 4 of the max (usually a few), enough unless the mass below it exceeds ε;
        // the second cut, ln(ε / n_vocab), always suffices: the tokens below it hold less than n_vocab · ε / n_vocab.
        float firstCut = (float)(max + Math.Log(_tailMass) - 4);
        float secondCut = (float)(max + Math.Log(_tailMass / row.Length) - 1);
        return TrySelect(row, max, firstCut, mustFinish: false) ?? TrySelect(row, max, secondCut, mustFinish: true)!.Value;
    }

    private (int Count, double LogNorm, double Tail)? TrySelect(ReadOnlySpan<float> row, float max, float cutoff, bool mustFinish)
    {
        var (sum, below) = RowSoftmax.SumExpSplit(row, max, cutoff);
        double lnSum = Math.Log(sum);
        if (!mustFinish && below > _tailMass * sum) return null;

        int candidates = Collect(row, cutoff);
        var keys = _keys.AsSpan(0, candidates);
        keys.Sort();

        // Suffix sums from the least probable candidate up: the tail after the first k is below + suffix[k], summed
        // from small to large so a tiny tail is not lost to cancellation against a total near 1.
        if (_suffix.Length < candidates + 1) _suffix = new double[Math.Max(candidates + 1, _suffix.Length * 2)];
        var suffix = _suffix.AsSpan(0, candidates + 1);
        suffix[candidates] = below;
        for (int k = candidates - 1; k >= 0; k--)
            suffix[k] = suffix[k + 1] + Math.Exp((double)row[IdOf(keys[k])] - max);

        double limit = _tailMass * sum;
        int count = candidates;
        for (int k = 1; k <= candidates; k++)
        {
            if (suffix[k] <= limit) { count = k; break; }
        }

        return (count, max + lnSum, suffix[count] / sum);
    }

    /// <summary>Sort keys of every token with logit ≥ cutoff: larger logit first, then lower id.</summary>
    private int Collect(ReadOnlySpan<float> row, float cutoff)
    {
        int n = 0, i = 0;
        // Most of a row is far below the cutoff: test 8 logits at a time and look closer only at hits.
        var c = Vector256.Create(cutoff);
        for (; i <= row.Length - 8; i += 8)
        {
            uint hits = Vector256.GreaterThanOrEqual(Vector256.Create(row.Slice(i, 8)), c).ExtractMostSignificantBits();
            while (hits != 0)
            {
                int j = i + BitOperations.TrailingZeroCount(hits);
                hits &= hits - 1;
                Add(ref n, row[j], j);
            }
        }
        for (; i < row.Length; i++)
            if (row[i] >= cutoff) Add(ref n, row[i], i);
        return n;
    }

    private void Add(ref int n, float value, int id)
    {
        if (n == _keys.Length) Array.Resize(ref _keys, n * 2);
        _keys[n++] = ((ulong)~Sortable(value) << 32) | (uint)id;
    }

    private static int IdOf(ulong key) => (int)(uint)key;

    /// <summary>Maps a finite float to a uint whose unsigned order is the float order.</summary>
    private static uint Sortable(float v)
    {
        uint bits = BitConverter.SingleToUInt32Bits(v);
        return (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
    }
}
