namespace GgufOptimize.Metrics;

/// <summary>
/// Percentile bootstrap of the composite score with whole chunks as blocks: a resample draws as many chunks as
/// there are, with replacement, and scores all their tokens together. Tokens inside a chunk are correlated
/// (shared context), chunks are close to independent, so resampling chunks keeps that dependence.
/// </summary>
internal static class BlockBootstrap
{
    /// <summary>Interval of the overall score of one comparison.</summary>
    public static ScoreInterval ScoreInterval(IReadOnlyList<ChunkResult> chunks, BootstrapOptions options) =>
        ScoreInterval(chunks.Select(c => (ReadOnlyMemory<double>)c.Kld).ToArray(), options);

    /// <summary>Interval from per-chunk KLD arrays.</summary>
    public static ScoreInterval ScoreInterval(IReadOnlyList<ReadOnlyMemory<double>> chunkKld, BootstrapOptions options)
    {
        var (estimate, scores) = ResampledScores(chunkKld, options);
        var (lower, upper) = PercentileInterval(scores, options.Confidence);
        return new ScoreInterval(estimate, lower, upper, options.Confidence, options.Resamples, chunkKld.Count);
    }

    /// <summary>The composite score of all the chunks' tokens together: the estimate an interval is built around.</summary>
    public static double Score(IReadOnlyList<ReadOnlyMemory<double>> chunkKld)
    {
        RequireChunks(chunkKld.Count);
        var pool = new PooledKld(chunkKld);
        return pool.Score(Ones(pool.Chunks));
    }

    /// <summary>The score of the chunks and the scores of <see cref="BootstrapOptions.Resamples"/> block resamples of them.</summary>
    internal static (double Estimate, double[] Scores) ResampledScores(IReadOnlyList<ReadOnlyMemory<double>> chunkKld, BootstrapOptions options)
    {
        options.Validate();
        RequireChunks(chunkKld.Count);
        var pool = new PooledKld(chunkKld);
        double estimate = pool.Score(Ones(pool.Chunks));
        var scores = new double[options.Resamples];
        Run(pool.Chunks, options, (weights, b) => scores[b] = pool.Score(weights));
        return (estimate, scores);
    }

    /// <summary>Paired comparison of A and B on the same chunks (same count, same chunk indices, in order).</summary>
    public static PairedScoreComparison Paired(IReadOnlyList<ChunkResult> a, IReadOnlyList<ChunkResult> b, BootstrapOptions options)
    {
        if (a.Count != b.Count)
            throw new ArgumentException($"paired bootstrap needs the same chunks: A has {a.Count}, B has {b.Count}");
        for (int i = 0; i < a.Count; i++)
            if (a[i].ChunkIndex != b[i].ChunkIndex)
                throw new ArgumentException($"paired bootstrap needs the same chunks: position {i} is chunk {a[i].ChunkIndex} in A, {b[i].ChunkIndex} in B");
        return Paired(a.Select(c => (ReadOnlyMemory<double>)c.Kld).ToArray(), b.Select(c => (ReadOnlyMemory<double>)c.Kld).ToArray(), options);
    }

    /// <summary>Paired comparison from per-chunk KLD arrays; chunk i of A and of B must be the same text.</summary>
    public static PairedScoreComparison Paired(IReadOnlyList<ReadOnlyMemory<double>> a, IReadOnlyList<ReadOnlyMemory<double>> b, BootstrapOptions options)
    {
        options.Validate();
        if (a.Count != b.Count)
            throw new ArgumentException($"paired bootstrap needs the same chunks: A has {a.Count}, B has {b.Count}");
        RequireChunks(a.Count);
        var poolA = new PooledKld(a);
        var poolB = new PooledKld(b);
        var ones = Ones(a.Count);
        double scoreA = poolA.Score(ones), scoreB = poolB.Score(ones);

        var differences = new double[options.Resamples];
        var relative = new double[options.Resamples];
        Run(a.Count, options, (weights, r) =>
        {
            double sa = poolA.Score(weights), sb = poolB.Score(weights);
            differences[r] = sb - sa;
            relative[r] = sb == sa ? 0 : (sb - sa) / sa;
        });
        int better = differences.Count(d => d < 0);
        var (dLow, dHigh) = PercentileInterval(differences, options.Confidence);
        var (rLow, rHigh) = PercentileInterval(relative, options.Confidence);
        return new PairedScoreComparison(scoreA, scoreB, scoreB - scoreA, dLow, dHigh,
            scoreB == scoreA ? 0 : (scoreB - scoreA) / scoreA, rLow, rHigh,
            (double)better / options.Resamples, options.Confidence, options.Resamples, a.Count);
    }

    private static void RequireChunks(int count)
    {
        if (count == 0)
            throw new ArgumentException("bootstrap needs at least one chunk");
    }

    private static int[] Ones(int n)
    {
        var w = new int[n];
        Array.Fill(w, 1);
        return w;
    }

    /// <summary>Draws resample r's chunk counts from its own random stream and hands them to <paramref name="score"/>.</summary>
    private static void Run(int chunks, BootstrapOptions options, Action<int[], int> score)
    {
        void One(int r, int[] weights)
        {
            Array.Clear(weights);
            var random = new BootstrapRandom(options.Seed, (ulong)r);
            for (int k = 0; k < chunks; k++) weights[random.NextInt(chunks)]++;
            score(weights, r);
        }

        if (options.Threads == 1)
        {
            var weights = new int[chunks];
            for (int r = 0; r < options.Resamples; r++) One(r, weights);
            return;
        }
        Parallel.For(0, options.Resamples, new ParallelOptions { MaxDegreeOfParallelism = options.Threads },
            () => new int[chunks], (r, _, weights) => { One(r, weights); return weights; }, _ => { });
    }

    /// <summary>The (1−c)/2 and (1+c)/2 linear quantiles of the resampled statistics (NaN resamples dropped).</summary>
    private static (double Lower, double Upper) PercentileInterval(double[] values, double confidence)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).ToArray();
        Array.Sort(sorted);
        double tail = (1 - confidence) / 2;
        return (Quantiles.Linear(sorted, tail), Quantiles.Linear(sorted, 1 - tail));
    }
}
