namespace GgufOptimize.Metrics;

/// <summary>
/// Statistics of a comparison, computed exactly over every scored token (sorted copy, no sketches).
/// Property names are the statistic names; <see cref="ToDictionary"/> gives them as name → value.
/// The first group (Average … KLD_01) has llama-gguf-optimize's names and definitions (StdDev is the population
/// standard deviation, numpy ddof=0) except that quantiles are exact numpy 'linear' instead of a t-digest;
/// KLD_999 and the rest follow llama-perplexity --kl-divergence, as fractions (not percent).
/// An empty set gives NaN everywhere and zero counts.
/// </summary>
internal sealed record KldStatistics
{
    public double Average { get; init; }
    public double StdDev { get; init; }
    public double Median { get; init; }
    public double Minimum { get; init; }
    public double Maximum { get; init; }
    public double KLD_99 { get; init; }
    public double KLD_95 { get; init; }
    public double KLD_90 { get; init; }
    public double KLD_10 { get; init; }
    public double KLD_05 { get; init; }
    public double KLD_01 { get; init; }
    public double KLD_999 { get; init; }
    /// <summary>Median^(1/3)·(KLD_99 + 4·KLD_95 + 5·KLD_90)^(2/3); see <see cref="CompositeScore"/>.</summary>
    public double Score { get; init; }
    /// <summary>exp(mean −log P(next)).</summary>
    public double PPL_base { get; init; }
    /// <summary>exp(mean −log Q(next)).</summary>
    public double PPL_target { get; init; }
    /// <summary>PPL_target / PPL_base = exp(Mean_ln_PPL_ratio).</summary>
    public double PPL_ratio { get; init; }
    /// <summary>mean(log P(next) − log Q(next)) = ln(PPL_target/PPL_base).</summary>
    public double Mean_ln_PPL_ratio { get; init; }
    public double Mean_ln_PPL_ratio_SE { get; init; }
    /// <summary>Pearson correlation of per-token log P(next) and log Q(next) (llama.cpp prints it ×100 %).</summary>
    public double Cor_ln_PPL { get; init; }
    /// <summary>Standard error of <see cref="Average"/> (the mean KLD).</summary>
    public double Mean_KLD_SE { get; init; }
    /// <summary>sqrt(mean Δp²), Δp = Q(next) − P(next).</summary>
    public double RMS_dp { get; init; }
    public double RMS_dp_SE { get; init; }
    /// <summary>Fraction of tokens where argmax P == argmax Q.</summary>
    public double Same_top_p { get; init; }
    public double Same_top_p_SE { get; init; }
    public long Tokens { get; init; }
    public int Chunks { get; init; }
    /// <summary>Positions left out because a baseline or target row held NaN/Inf.</summary>
    public long NonFiniteRows { get; init; }

    public IReadOnlyDictionary<string, double> ToDictionary()
    {
        var result = new Dictionary<string, double>(Accessors.Length);
        foreach (var (name, get) in Accessors) result[name] = get(this);
        return result;
    }

    // Must precede Names: static initializers run in text order.
    private static readonly (string Name, Func<KldStatistics, double> Get)[] Accessors =
    [
        (nameof(Average), s => s.Average), (nameof(StdDev), s => s.StdDev), (nameof(Median), s => s.Median),
        (nameof(Minimum), s => s.Minimum), (nameof(Maximum), s => s.Maximum),
        (nameof(KLD_99), s => s.KLD_99), (nameof(KLD_95), s => s.KLD_95), (nameof(KLD_90), s => s.KLD_90),
        (nameof(KLD_10), s => s.KLD_10), (nameof(KLD_05), s => s.KLD_05), (nameof(KLD_01), s => s.KLD_01),
        (nameof(KLD_999), s => s.KLD_999), (nameof(Score), s => s.Score),
        (nameof(PPL_base), s => s.PPL_base), (nameof(PPL_target), s => s.PPL_target), (nameof(PPL_ratio), s => s.PPL_ratio),
        (nameof(Mean_ln_PPL_ratio), s => s.Mean_ln_PPL_ratio), (nameof(Mean_ln_PPL_ratio_SE), s => s.Mean_ln_PPL_ratio_SE),
        (nameof(Cor_ln_PPL), s => s.Cor_ln_PPL), (nameof(Mean_KLD_SE), s => s.Mean_KLD_SE),
        (nameof(RMS_dp), s => s.RMS_dp), (nameof(RMS_dp_SE), s => s.RMS_dp_SE),
        (nameof(Same_top_p), s => s.Same_top_p), (nameof(Same_top_p_SE), s => s.Same_top_p_SE),
        (nameof(Tokens), s => s.Tokens), (nameof(Chunks), s => s.Chunks), (nameof(NonFiniteRows), s => s.NonFiniteRows),
    ];

    /// <summary>Statistic names in report order, as used by <see cref="ToDictionary"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = Accessors.Select(a => a.Name).ToArray();

    /// <summary>Statistics of one chunk.</summary>
    public static KldStatistics Compute(ChunkResult chunk) => Compute([chunk]);

    /// <summary>"Overall" statistics: all tokens of all chunks concatenated.</summary>
    public static KldStatistics Compute(IReadOnlyList<ChunkResult> chunks)
    {
        long total = 0, nonFinite = 0;
        foreach (var c in chunks) { total += c.Count; nonFinite += c.NonFiniteRows; }
        int n = checked((int)total);
        var kld = new double[n];
        var logP = new double[n];
        var logQ = new double[n];
        var dp2 = new double[n];
        var lnRatio = new double[n];
        long sameTop = 0;
        int k = 0;
        foreach (var c in chunks)
        {
            for (int i = 0; i < c.Count; i++, k++)
            {
                kld[k] = c.Kld[i];
                logP[k] = c.LogProbBase[i];
                logQ[k] = c.LogProbTarget[i];
                dp2[k] = c.DeltaP[i] * c.DeltaP[i];
                lnRatio[k] = logP[k] - logQ[k];
                if (c.SameTop[i]) sameTop++;
            }
        }

        double mean = Moments.Mean(kld);
        double variance = Moments.PopulationVariance(kld, mean);
        Array.Sort(kld);
        double median = Quantiles.Linear(kld, CompositeScore.Q50);
        double k99 = Quantiles.Linear(kld, CompositeScore.Q99);
        double k95 = Quantiles.Linear(kld, CompositeScore.Q95);
        double k90 = Quantiles.Linear(kld, CompositeScore.Q90);

        double meanLogP = Moments.Mean(logP), meanLogQ = Moments.Mean(logQ);
        double varLogP = Moments.PopulationVariance(logP, meanLogP), varLogQ = Moments.PopulationVariance(logQ, meanLogQ);
        double meanLnRatio = Moments.Mean(lnRatio);
        double meanDp2 = Moments.Mean(dp2);
        double rmsDp = Math.Sqrt(meanDp2);
        double sameTopP = n == 0 ? double.NaN : (double)sameTop / n;

        return new KldStatistics
        {
            Average = mean,
            StdDev = Math.Sqrt(variance),
            Median = median,
            Minimum = n == 0 ? double.NaN : kld[0],
            Maximum = n == 0 ? double.NaN : kld[^1],
            KLD_99 = k99,
            KLD_95 = k95,
            KLD_90 = k90,
            KLD_10 = Quantiles.Linear(kld, 0.10),
            KLD_05 = Quantiles.Linear(kld, 0.05),
            KLD_01 = Quantiles.Linear(kld, 0.01),
            KLD_999 = Quantiles.Linear(kld, 0.999),
            Score = CompositeScore.Compute(median, k99, k95, k90),
            PPL_base = Math.Exp(-meanLogP),
            PPL_target = Math.Exp(-meanLogQ),
            PPL_ratio = Math.Exp(meanLnRatio),
            Mean_ln_PPL_ratio = meanLnRatio,
            // llama.cpp combines the two SEs and their covariance; that is algebraically the SE of the paired differences.
            Mean_ln_PPL_ratio_SE = Moments.StandardError(Moments.PopulationVariance(lnRatio, meanLnRatio), n),
            Cor_ln_PPL = Moments.PopulationCovariance(logP, meanLogP, logQ, meanLogQ) / Math.Sqrt(varLogP * varLogQ),
            Mean_KLD_SE = Moments.StandardError(variance, n),
            RMS_dp = rmsDp,
            RMS_dp_SE = 0.5 / rmsDp * Moments.StandardError(Moments.PopulationVariance(dp2, meanDp2), n),
            Same_top_p = sameTopP,
            Same_top_p_SE = n < 2 ? double.NaN : Math.Sqrt(sameTopP * (1 - sameTopP) / (n - 1)),
            Tokens = n,
            Chunks = chunks.Count,
            NonFiniteRows = nonFinite,
        };
    }
}
