using GgufOptimize.Metrics;
using GgufOptimize.Storage;

namespace GgufOptimize.Kld;

/// <summary>
/// A baseline model's scoring of one chunk, run in step with the target: when the target's batch of rows arrives,
/// the baseline decodes the same batch (both contexts use the same batch size, so batches start at the same
/// positions) and the two are scored at once. With --keep-logits each baseline batch is written as it is decoded, and
/// the chunk flagged done once all of it is in. The baseline requests every row, as a whole-chunk run did, so its
/// logits are the very same.
/// </summary>
internal sealed class InStepChunkScore : IChunkScore
{
    private readonly ModelChunkEvaluator _evaluator;
    private readonly int _chunk;
    private readonly int[] _tokens;
    private readonly BaselineLogitsFile? _keep;
    private readonly LogitWindow _baseline, _target;
    private readonly ChunkScoring _scoring;
    private int _next;

    /// <param name="keep">The --keep-logits file when this chunk is still to be written to it, else null.</param>
    public InStepChunkScore(ModelChunkEvaluator evaluator, int chunk, int[] tokens, int vocabSize, int skipFirst, int threads, BaselineLogitsFile? keep)
    {
        _evaluator = evaluator;
        _chunk = chunk;
        _tokens = tokens;
        _keep = keep;
        _baseline = new LogitWindow(tokens.Length, vocabSize);
        _target = new LogitWindow(tokens.Length, vocabSize);
        _scoring = ChunkScorer.Begin(chunk, _baseline, _target, tokens, skipFirst, threads);
    }

    public void Add(int first, LogitRows rows)
    {
        int end = first + rows.Count;
        while (_baseline.End < end && _next < _tokens.Length) DecodeNext();
        if (first < _baseline.First || end > _baseline.End)
            throw new InvalidOperationException($"chunk {_chunk}: target rows {first}..{end - 1} do not fall in the baseline's batch {_baseline.First}..{_baseline.End - 1} (the two contexts batch differently)");
        _target.Show(first, rows);
        _scoring.Score(first, end);
    }

    public ChunkResult Finish()
    {
        if (_keep is not null)
        {
            // The kept baseline holds every position, including any after the last scored one.
            while (_next < _tokens.Length) DecodeNext();
            _keep.MarkProcessed(_chunk);
        }
        return _scoring.Finish();
    }

    private void DecodeNext()
    {
        var rows = _evaluator.DecodeBatch(_tokens, _next, 0, out int first, out var values);
        _keep?.WriteLogits(_chunk, first, values);
        _baseline.Show(first, rows);
        _next += _evaluator.BatchSize;
    }
}
