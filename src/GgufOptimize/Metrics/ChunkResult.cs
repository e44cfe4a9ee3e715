namespace GgufOptimize.Metrics;

/// <summary>
/// Per-token results of one chunk, one entry per scored position (positions with a non-finite row are left out and
/// counted in <see cref="NonFiniteRows"/>). The arrays are owned by this object; treat them as read-only.
/// Values are kept in double, as computed, so every statistic derived from them agrees with a float64 reference to
/// the last bits (float32 storage moved overall statistics by up to 6e-8 relative).
/// </summary>
internal sealed class ChunkResult
{
    public int ChunkIndex { get; }
    /// <summary>KL(P‖Q) per token, nats.</summary>
    public double[] Kld { get; }
    /// <summary>Q(next) − P(next) per token.</summary>
    public double[] DeltaP { get; }
    /// <summary>argmax P == argmax Q per token.</summary>
    public bool[] SameTop { get; }
    /// <summary>log P(next) per token (baseline).</summary>
    public double[] LogProbBase { get; }
    /// <summary>log Q(next) per token (target).</summary>
    public double[] LogProbTarget { get; }
    /// <summary>Positions excluded because the baseline or target row held NaN/Inf.</summary>
    public int NonFiniteRows { get; }

    /// <summary>
    /// Scored positions whose baseline log P(next) sits at a stored floor instead of its true value (a llama.cpp .kld
    /// baseline keeps log-probabilities only down to 16 nats below the top one): their log P(next) is too high.
    /// </summary>
    public int FlooredNextTokens { get; }

    public int Count => Kld.Length;

    /// <summary>
    /// The first position whose baseline row held NaN/Inf (−1: none). Such a row is the baseline's fault, not the
    /// target's: the comparison refuses the baseline instead of counting the row among <see cref="NonFiniteRows"/>.
    /// </summary>
    public int FirstBaselineNonFiniteRow { get; init; } = -1;

    public ChunkResult(int chunkIndex, double[] kld, double[] deltaP, bool[] sameTop, double[] logProbBase, double[] logProbTarget, int nonFiniteRows, int flooredNextTokens = 0)
    {
        int n = kld.Length;
        if (deltaP.Length != n || sameTop.Length != n || logProbBase.Length != n || logProbTarget.Length != n)
            throw new ArgumentException($"chunk {chunkIndex}: per-token arrays differ in length");
        ArgumentOutOfRangeException.ThrowIfNegative(nonFiniteRows);
        ChunkIndex = chunkIndex;
        Kld = kld;
        DeltaP = deltaP;
        SameTop = sameTop;
        LogProbBase = logProbBase;
        LogProbTarget = logProbTarget;
        NonFiniteRows = nonFiniteRows;
        FlooredNextTokens = flooredNextTokens >= 0 ? flooredNextTokens : throw new ArgumentOutOfRangeException(nameof(flooredNextTokens));
    }
}
