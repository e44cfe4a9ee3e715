using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Metrics;
using GgufOptimize.Storage;

namespace GgufOptimize.Kld;

/// <summary>
/// A baseline model run on a dataset chunk by chunk (kl_d_bench's "generate both"), in step with the target a decode
/// batch at a time (<see cref="InStepChunkScore"/>): only the current batch's logits exist, unless --keep-logits
/// stores them as a normal baseline file. Owns the model from the moment it is loaded.
/// </summary>
internal sealed class ModelBaselineSide : IBaselineSide
{
    private readonly string _path;
    private readonly LlamaModel _model;
    private ModelChunkEvaluator? _evaluator;
    private ChunkPlan _plan = null!;
    private BaselineLogitsFile? _keep;
    private bool _disposed;

    public int TotalChunks => _plan.ChunkCount;
    public int ContextSize => _plan.ContextSize;
    public int VocabSize => _model.VocabSize;
    public BaselineHeader Header { get; private set; } = null!;
    BaselineHeader? IBaselineSide.Header => Header;
    public string Description => Path.GetFileName(_path);
    public string Identity => $"model {Header.Model.Sha256} on {Header.DatasetSha256}, n_ctx {ContextSize}";
    public string? EngineSettings => _evaluator?.EngineSettings;
    public int FirstStoredPosition => 0;

    private ModelBaselineSide(string path, LlamaModel model)
    {
        _path = path;
        _model = model;
    }

    public static ModelBaselineSide Open(KldJobOptions o, IProgressSink progress)
    {
        var side = new ModelBaselineSide(o.BaselineModel!, LlamaModel.Load(o.BaselineModel!, o.Engine));
        try
        {
            side.Prepare(o, progress);
            return side;
        }
        catch
        {
            side.Dispose();
            throw;
        }
    }

    private void Prepare(KldJobOptions o, IProgressSink progress)
    {
        int ctx = ChunkContext.Resolve(o.ContextSize, _model.TrainContext, progress);
        var corpus = TextCorpus.Load(o.Dataset!);
        _plan = ChunkPlan.ForModel(_model.Tokenize(corpus.Text, progress), ctx, _model.AddBos, _model.Bos, _model.AddEos, _model.Eos);
        _evaluator = new ModelChunkEvaluator(_model, ModelChunkEvaluator.OptionsFor(o, ctx));
        Header = new BaselineHeader
        {
            ContextSize = ctx,
            VocabSize = _model.VocabSize,
            TotalChunks = _plan.ChunkCount,
            Precision = 32,
            Model = ModelIdentity.Of(_path),
            DatasetFile = Path.GetFileName(o.Dataset!),
            DatasetSha256 = corpus.Sha256,
            TokenizerSha256 = _model.TokenizerFingerprint(),
            AddBos = _plan.Bos.HasValue,
            AddEos = _plan.Eos.HasValue,
            Engine = _evaluator.EngineSettings,
        };
        if (o.KeepLogits is { } keep)
        {
            OutputPaths.EnsureWritableDirectory(keep, "--keep-logits");
            _keep = BaselineLogitsFile.OpenOrCreate(keep, Header, _plan, o.Clobber, progress, slots: o.Keep);
        }
    }

    public bool HasChunk(int chunk) => true;

    public int[] ChunkTokens(int chunk) => _plan.Chunk(chunk);

    public IChunkScore BeginScore(int chunk, int[] tokens, int skipFirst, int threads) =>
        new InStepChunkScore(_evaluator!, chunk, tokens, VocabSize, skipFirst, threads, _keep is not null && !_keep.IsProcessed(chunk) ? _keep : null);

    /// <summary>With --keep-logits, the kept baseline is renamed to its final name once every chunk is in.</summary>
    public void Complete() => _keep?.Complete(0, TotalChunks);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _keep?.Dispose();
        _evaluator?.Dispose();
        _model.Dispose();
    }
}
