using GgufOptimize.Engine;

namespace GgufOptimize.Kld;

/// <summary>Evaluates a model on given chunk tokens into one reusable buffer: only the current chunk's logits exist.</summary>
internal sealed class ModelChunkEvaluator(LlamaModel model, EvaluatorOptions options) : IDisposable
{
    private readonly LlamaEvaluator _evaluator = new(model, options);
    private float[] _buffer = [];

    /// <summary>The engine settings that can change this evaluator's logits (see <see cref="LlamaEvaluator.EngineSettings"/>).</summary>
    public string EngineSettings => _evaluator.EngineSettings;

    /// <summary>
    /// tokens.Length × n_vocab logits, valid until the next call. Rows before <paramref name="firstNeeded"/> are not
    /// computed; they hold NaN, so a scorer that read one would fail loudly instead of using another chunk's row.
    /// </summary>
    public ReadOnlyMemory<float> Evaluate(ReadOnlySpan<int> tokens, int firstNeeded = 0)
    {
        int needed = tokens.Length * model.VocabSize;
        if (_buffer.Length < needed) _buffer = new float[needed];
        int skipped = Math.Clamp(firstNeeded, 0, tokens.Length);
        _buffer.AsSpan(0, skipped * model.VocabSize).Fill(float.NaN);
        _evaluator.EvaluateChunk(tokens, _buffer.AsSpan(0, needed), skipped);
        return _buffer.AsMemory(0, needed);
    }

    public static EvaluatorOptions OptionsFor(KldJobOptions o, int contextSize) => new()
    {
        ContextSize = contextSize, BatchSize = o.BatchSize, UBatchSize = o.UBatchSize, Threads = o.Threads,
    };

    /// <summary>Frees the evaluation context; the model belongs to the caller.</summary>
    public void Dispose() => _evaluator.Dispose();
}
