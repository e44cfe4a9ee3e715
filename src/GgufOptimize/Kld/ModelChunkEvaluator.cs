using GgufOptimize.Engine;

namespace GgufOptimize.Kld;

/// <summary>Evaluates a model on given chunk tokens into one reusable buffer: only the current chunk's logits exist.</summary>
internal sealed class ModelChunkEvaluator : IDisposable
{
    private readonly LlamaEvaluator _evaluator;
    private float[] _buffer = [];

    public LlamaModel Model { get; }

    /// <summary>The engine settings that can change this evaluator's logits (see <see cref="LlamaEvaluator.EngineSettings"/>).</summary>
    public string EngineSettings => _evaluator.EngineSettings;

    public ModelChunkEvaluator(LlamaModel model, EvaluatorOptions options)
    {
        Model = model;
        _evaluator = new LlamaEvaluator(model, options);
    }

    public ReadOnlySpan<float> Evaluate(ReadOnlySpan<int> tokens)
    {
        int needed = tokens.Length * Model.VocabSize;
        if (_buffer.Length < needed) _buffer = new float[needed];
        _evaluator.EvaluateChunk(tokens, _buffer.AsSpan(0, needed));
        return _buffer.AsSpan(0, needed);
    }

    public void Dispose()
    {
        _evaluator.Dispose();
        Model.Dispose();
    }
}
