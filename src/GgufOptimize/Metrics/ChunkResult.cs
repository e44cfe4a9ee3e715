namespace GgufOptimize.Metrics;

/// <summary>
/// Per-token results of one chunk, one entry per scored position (positions with a non-finite row are left out and
/// counted in <see cref="NonFiniteRows"/>). The arrays are owned by this object; treat them as read-only.
/// </summary>
public sealed class ChunkResult
{
    public int ChunkIndex { get; }
    /// <summary>KL(P‖Q) per token, nats.</summary>
    public float[] Kld { get; }
    /// <summary>Q(next) − P(next) per token.</summary>
    public float[] DeltaP { get; }
    /// <summary>argmax P == argmax Q per token.</summary>
    public bool[] SameTop { get; }
    /// <summary>log P(next) per token (baseline).</summary>
    public float[] LogProbBase { get; }
    /// <summary>log Q(next) per token (target).</summary>
    public float[] LogProbTarget { get; }
    /// <summary>Positions excluded because the baseline or target row held NaN/Inf.</summary>
    public int NonFiniteRows { get; }

    public int Count => Kld.Length;

    public ChunkResult(int chunkIndex, float[] kld, float[] deltaP, bool[] sameTop, float[] logProbBase, float[] logProbTarget, int nonFiniteRows)
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
    }
}
