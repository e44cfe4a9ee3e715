namespace GgufOptimize.Metrics;

/// <summary>Collects <see cref="TokenComparison"/>s of one chunk, row by row, into a <see cref="ChunkResult"/>.</summary>
internal sealed class ChunkResultBuilder
{
    private readonly int _chunkIndex;
    private readonly List<double> _kld, _deltaP, _logProbBase, _logProbTarget;
    private readonly List<bool> _sameTop;
    private int _nonFinite;

    public ChunkResultBuilder(int chunkIndex, int expectedTokens = 0)
    {
        _chunkIndex = chunkIndex;
        _kld = new(expectedTokens);
        _deltaP = new(expectedTokens);
        _logProbBase = new(expectedTokens);
        _logProbTarget = new(expectedTokens);
        _sameTop = new(expectedTokens);
    }

    /// <summary>Adds a scored position, or counts it as excluded when its status is not Ok.</summary>
    public void Add(in TokenComparison token)
    {
        if (!token.IsValid)
        {
            _nonFinite++;
            return;
        }
        _kld.Add(token.Kld);
        _deltaP.Add(token.DeltaP);
        _sameTop.Add(token.SameTop);
        _logProbBase.Add(token.LogProbBase);
        _logProbTarget.Add(token.LogProbTarget);
    }

    public ChunkResult Build() => Build(-1);

    /// <param name="firstBaselineNonFiniteRow">See <see cref="ChunkResult.FirstBaselineNonFiniteRow"/>.</param>
    internal ChunkResult Build(int firstBaselineNonFiniteRow) =>
        new(_chunkIndex, _kld.ToArray(), _deltaP.ToArray(), _sameTop.ToArray(), _logProbBase.ToArray(), _logProbTarget.ToArray(), _nonFinite)
        {
            FirstBaselineNonFiniteRow = firstBaselineNonFiniteRow,
        };
}
