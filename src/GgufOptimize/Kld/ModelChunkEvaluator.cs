using GgufOptimize.Engine;
using GgufOptimize.Metrics;

namespace GgufOptimize.Kld;

/// <summary>
/// Runs a model on given chunk tokens one decode batch at a time: each batch's rows are handed out where llama.cpp
/// left them, so no chunk of logits is ever held (a chunk at 128k × 4096 would be 2.1 GB).
/// </summary>
internal sealed class ModelChunkEvaluator(LlamaModel model, EvaluatorOptions options) : IDisposable
{
    private readonly LlamaEvaluator _evaluator = new(model, options);

    /// <summary>The engine settings that can change this evaluator's logits (see <see cref="LlamaEvaluator.EngineSettings"/>).</summary>
    public string EngineSettings => _evaluator.EngineSettings;

    /// <summary>Positions per decode batch; batches start at multiples of it.</summary>
    public int BatchSize => _evaluator.BatchSize;

    /// <summary>
    /// Decodes the chunk and hands each batch's rows to <paramref name="onRows"/> (first position, rows valid during
    /// the call). Rows before <paramref name="firstNeeded"/> are not computed and never handed out.
    /// </summary>
    public void Stream(ReadOnlySpan<int> tokens, int firstNeeded, BatchHandler onRows) =>
        _evaluator.EvaluateChunk(tokens, (first, values) => onRows(first, LogitRows.Of(BorrowedLogits.Of(values), model.VocabSize), values), firstNeeded);

    /// <summary>One batch's rows from position <paramref name="first"/>: as rows to score and as the values to store.</summary>
    public delegate void BatchHandler(int first, LogitRows rows, ReadOnlySpan<float> values);

    /// <summary>
    /// Decodes the batch at <paramref name="start"/> (see <see cref="LlamaEvaluator.DecodeBatch"/>), for a caller that
    /// keeps two models in step; the rows (positions from <paramref name="firstOut"/>) are valid until the next decode.
    /// </summary>
    public LogitRows DecodeBatch(ReadOnlySpan<int> tokens, int start, int firstNeeded, out int firstOut, out ReadOnlySpan<float> raw)
    {
        raw = _evaluator.DecodeBatch(tokens, start, firstNeeded, out firstOut);
        return LogitRows.Of(BorrowedLogits.Of(raw), model.VocabSize);
    }

    public static EvaluatorOptions OptionsFor(KldJobOptions o, int contextSize) => new()
    {
        ContextSize = contextSize, BatchSize = o.BatchSize, UBatchSize = o.UBatchSize, Threads = o.Threads,
    };

    /// <summary>Frees the evaluation context; the model belongs to the caller.</summary>
    public void Dispose() => _evaluator.Dispose();
}
