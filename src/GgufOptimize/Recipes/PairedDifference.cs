namespace GgufOptimize.Recipes;

/// <summary>
/// Mean KLD of a mix minus that of the reference on the same tokens. Tokens of a chunk share their context, so the
/// standard error is taken over chunks (each chunk's difference weighted by its tokens), not over tokens. An
/// early-stopped mix holds a prefix of the reference's chunks: the difference is taken on the mix's chunks.
/// </summary>
internal static class PairedDifference
{
    public static (double Delta, double Se) Of(IReadOnlyList<ChunkMean> mix, IReadOnlyList<ChunkMean> reference)
    {
        var refByChunk = reference.ToDictionary(c => c.Chunk);
        var pairs = mix.Where(c => refByChunk.ContainsKey(c.Chunk)).Select(c => (N: (double)c.Tokens, D: c.MeanKld - refByChunk[c.Chunk].MeanKld)).ToList();
        if (pairs.Count != mix.Count || pairs.Count == 0)
            throw new InvalidOperationException("paired difference of measurements on different chunks");
        double total = pairs.Sum(p => p.N);
        double delta = pairs.Sum(p => p.N * p.D) / total;
        if (pairs.Count < 2) return (delta, double.NaN);
        double spread = pairs.Sum(p => p.N * p.N * (p.D - delta) * (p.D - delta));
        double se = Math.Sqrt(spread * pairs.Count / (pairs.Count - 1.0)) / total;
        return (delta, se);
    }
}
