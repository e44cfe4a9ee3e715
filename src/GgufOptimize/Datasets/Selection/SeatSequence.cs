namespace GgufOptimize.Datasets.Selection;

/// <summary>
/// Hands out sample slots to languages one at a time in proportion to their weights (Sainte-Laguë: the next slot
/// goes to the language with the largest weight / (2 * slots + 1), ties to the earlier language). Every prefix of
/// the sequence is itself a fair split, and a prefix never loses slots as the sequence grows, which is what lets
/// nested subsets keep the language shares at every size. Equal weights give plain round robin.
/// </summary>
internal sealed class SeatSequence
{
    private readonly double[] _weights;
    private readonly long[] _seats;

    public SeatSequence(IReadOnlyList<double> weights)
    {
        _weights = [.. weights];
        _seats = new long[weights.Count];
    }

    public long SeatsOf(int language) => _seats[language];

    public int Next()
    {
        int best = 0;
        for (int i = 1; i < _weights.Length; i++)
            if (_weights[i] * (2 * _seats[best] + 1) > _weights[best] * (2 * _seats[i] + 1)) best = i;
        _seats[best]++;
        return best;
    }

    public long Total => _seats.Sum();

    /// <summary>
    /// Continues the sequence until <paramref name="count"/> slots are handed out, in time independent of the count:
    /// the first n slots are the n largest weight / (2k + 1) values, so starting from an allocation known to be below
    /// that one (each language's exact quota minus the number of languages, which the rounding never undercuts) and
    /// continuing one slot at a time ends in the same state as handing out every slot singly.
    /// </summary>
    public void AdvanceTo(long count)
    {
        long start = Total;
        if (count - start > 64L * _weights.Length && start == 0)
        {
            double sum = _weights.Sum();
            for (int i = 0; i < _weights.Length; i++)
                _seats[i] = Math.Max(0, (long)Math.Floor(count * (_weights[i] / sum)) - _weights.Length);
        }
        for (long i = Total; i < count; i++) Next();
    }

    /// <summary>Slots per language among the first <paramref name="count"/> slots.</summary>
    public static long[] Allocate(IReadOnlyList<double> weights, long count)
    {
        var sequence = new SeatSequence(weights);
        sequence.AdvanceTo(count);
        return sequence._seats;
    }
}
