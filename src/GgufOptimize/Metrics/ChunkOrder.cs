namespace GgufOptimize.Metrics;

/// <summary>
/// The order in which early stopping visits chunks: a uniformly random permutation drawn from a seed. Neighbouring
/// chunks of a text share topic and style, so a text-order prefix is not a sample of the text; a random-order prefix
/// is a simple random sample of it, which is what the stopping interval assumes. The same seed and chunk list give
/// the same order everywhere, so a resumed run continues the same permutation.
/// </summary>
internal static class ChunkOrder
{
    /// <summary>Stream of <see cref="BootstrapRandom"/> reserved for the order (resample streams are 0, 1, 2 …).</summary>
    private const ulong Stream = 0x6368756E6B6F7264UL;

    /// <summary><paramref name="chunks"/> shuffled by Fisher–Yates with the seed's own generator.</summary>
    public static int[] Shuffled(IReadOnlyList<int> chunks, ulong seed)
    {
        var order = chunks.ToArray();
        var random = new BootstrapRandom(seed, Stream);
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = random.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
