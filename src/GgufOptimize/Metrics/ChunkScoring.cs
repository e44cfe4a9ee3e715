namespace GgufOptimize.Metrics;

/// <summary>
/// One chunk's scoring of positions [First, End), fed a range at a time as the target's rows arrive (a decode batch,
/// or a window of stored rows), so no side has to hold a whole chunk of logits. The one partitioner of scoring work:
/// each range is split into contiguous parts, one per thread (each with its own scratch row), and every position is
/// computed by the same kernel into its own slot, collected in position order at <see cref="Finish"/>, so the result
/// depends neither on the batching nor on the thread count. Every per-position comparison of every format goes
/// through here.
/// </summary>
internal sealed class ChunkScoring
{
    /// <summary>Below this many positions per thread a thread hand-off costs more than it saves.</summary>
    private const int MinPositionsPerPart = 16;

    private readonly int _chunk, _threads, _scratchLength;
    private readonly ScoreRange _score;
    private readonly Func<ChunkResult, ChunkResult>? _finish;
    private readonly TokenComparison[] _results;
    private readonly float[]?[] _scratch;
    private int _scoredUpTo;

    /// <summary>Fills results[position − first] for positions [start, end), using its own scratch row.</summary>
    public delegate void ScoreRange(int start, int end, TokenComparison[] results, float[] scratch);

    /// <param name="finish">Adjusts the built result (a format's own counts), if given.</param>
    public ChunkScoring(int chunk, int first, int end, int threads, int scratchLength, ScoreRange score, Func<ChunkResult, ChunkResult>? finish = null)
    {
        _chunk = chunk;
        First = first;
        End = Math.Max(first, end);
        _threads = Math.Max(1, threads);
        _scratchLength = scratchLength;
        _score = score;
        _finish = finish;
        _results = new TokenComparison[End - First];
        _scratch = new float[_threads][];
        _scoredUpTo = First;
    }

    /// <summary>The first position scored.</summary>
    public int First { get; }

    /// <summary>One past the last position scored (the chunk's last row predicts nothing).</summary>
    public int End { get; }

    /// <summary>Called after positions [start, stop) are scored (a memory-mapped source may then drop those rows' pages).</summary>
    public Action<int, int>? Scored { get; init; }

    /// <summary>
    /// Scores the positions of [start, stop) that lie in [First, End). Ranges come in position order and may not
    /// overlap (rows before <see cref="First"/> or from an earlier range are ignored).
    /// </summary>
    public void Score(int start, int stop)
    {
        int s = Math.Max(Math.Max(start, First), _scoredUpTo), e = Math.Min(stop, End);
        if (s > _scoredUpTo)
            throw new InvalidOperationException($"chunk {_chunk}: positions {_scoredUpTo}..{s - 1} were skipped (rows must arrive in order)");
        if (e <= s) return;
        int positions = e - s;
        int parts = Math.Clamp(Math.Min(_threads, positions / MinPositionsPerPart), 1, _threads);
        if (parts == 1) _score(s, e, _results, Scratch(0));
        else
            Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, p =>
            {
                int a = (int)((long)positions * p / parts), b = (int)((long)positions * (p + 1) / parts);
                _score(s + a, s + b, _results, Scratch(p));
            });
        _scoredUpTo = e;
        Scored?.Invoke(s, e);
    }

    /// <summary>Scores every position at once (rows that hold the whole chunk) and returns the result.</summary>
    public ChunkResult ScoreAll()
    {
        Score(First, End);
        return Finish();
    }

    /// <summary>The chunk's result, once every position of [First, End) has been scored.</summary>
    public ChunkResult Finish()
    {
        if (_scoredUpTo < End)
            throw new InvalidOperationException($"chunk {_chunk}: positions {_scoredUpTo}..{End - 1} were never scored (their target rows did not arrive)");
        var builder = new ChunkResultBuilder(_chunk, _results.Length);
        int baselineNonFinite = -1;
        for (int i = 0; i < _results.Length; i++)
        {
            if (baselineNonFinite < 0 && (_results[i].Status & RowStatus.BaselineNotFinite) != 0) baselineNonFinite = First + i;
            builder.Add(_results[i]);
        }
        var result = builder.Build(baselineNonFinite);
        return _finish is null ? result : _finish(result);
    }

    private float[] Scratch(int part) => _scratch[part] ??= new float[_scratchLength];
}
