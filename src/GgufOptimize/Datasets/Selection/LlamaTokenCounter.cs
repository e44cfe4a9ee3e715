using GgufOptimize.Engine;

namespace GgufOptimize.Datasets.Selection;

/// <summary>Token counts from a GGUF model's own tokenizer through llama.cpp.</summary>
internal sealed class LlamaTokenCounter : ITokenCounter, IDisposable
{
    private readonly LlamaModel _model;
    private readonly bool _ownsModel;

    public LlamaTokenCounter(LlamaModel model, bool ownsModel = false)
    {
        _model = model;
        _ownsModel = ownsModel;
        Identity = $"{Path.GetFileName(model.Path)} ({new FileInfo(model.Path).Length} bytes)";
    }

    /// <summary>Loads only the model's tokenizer (no weights, so nothing is placed on a GPU), with the given memory settings.</summary>
    public static LlamaTokenCounter Open(string modelPath, EngineSettings? settings = null) =>
        new(LlamaModel.Load(modelPath, settings, vocabOnly: true), ownsModel: true);

    public string Identity { get; }

    public int CountTokens(string text) => text.Length == 0 ? 0 : _model.Tokenize(text).Length;

    public void Dispose()
    {
        if (_ownsModel) _model.Dispose();
    }
}
