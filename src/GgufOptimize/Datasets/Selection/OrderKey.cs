namespace GgufOptimize.Datasets.Selection;

/// <summary>
/// Position of a sample in its language's sample order: with <c>--shuffle</c> the seeded content hash
/// (<see cref="Rank"/>), otherwise 0 so that arrival order (<see cref="Ordinal"/>) decides.
/// </summary>
internal readonly record struct OrderKey(UInt128 Rank, long Ordinal) : IComparable<OrderKey>
{
    public int CompareTo(OrderKey other)
    {
        int c = Rank.CompareTo(other.Rank);
        return c != 0 ? c : Ordinal.CompareTo(other.Ordinal);
    }

    public static bool operator <(OrderKey a, OrderKey b) => a.CompareTo(b) < 0;
    public static bool operator >(OrderKey a, OrderKey b) => a.CompareTo(b) > 0;

    public static readonly IComparer<OrderKey> Descending = Comparer<OrderKey>.Create((a, b) => b.CompareTo(a));
}
