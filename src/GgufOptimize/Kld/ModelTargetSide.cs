using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Gguf;
using GgufOptimize.Storage;
using GgufOptimize.Metrics;

namespace GgufOptimize.Kld;

/// <summary>A target model, run chunk by chunk on the baseline's tokens. Owns the model from the moment it is loaded.</summary>
internal sealed class ModelTargetSide : ITargetSide
{
    private readonly string _path;
    private ModelChunkEvaluator? _evaluator;
    private BaselineLogitsFile? _store;
    private int _chunks;
    private int _firstScored;
    private bool _disposed;

    /// <summary>Loaded before the baseline when the baseline's chunks depend on this model's tokenizer (llama.cpp and Python-tool files).</summary>
    public LlamaModel Model { get; }
    public string Description => Path.GetFileName(_path);
    public string Identity => $"model {ModelIdentity.Of(_path).Sha256}";
    public string? EngineSettings => _evaluator?.EngineSettings;

    /// <summary>From the model's GGUF header: <c>general.file_type</c>, the <c>quantize.imatrix.*</c> keys, size and bits per weight.</summary>
    public TargetFacts Facts()
    {
        var facts = QuantizationFacts.Read(_path);
        return new TargetFacts
        {
            Path = System.IO.Path.GetFullPath(_path),
            Type = facts.Type,
            Imatrix = facts.Imatrix is { } im ? System.IO.Path.GetFileName(im.File) : TargetFacts.NoImatrix,
            ImatrixDataset = facts.Imatrix?.Dataset,
            ImatrixChunks = facts.Imatrix?.Chunks,
            Bytes = facts.FileBytes,
            Parameters = facts.Parameters,
            BitsPerWeight = facts.BitsPerWeight,
        };
    }

    private ModelTargetSide(string path, LlamaModel model)
    {
        _path = path;
        Model = model;
    }

    public static ModelTargetSide Load(string path, EngineSettings settings) => new(path, LlamaModel.Load(path, settings));

    public void Attach(IBaselineSide baseline, KldJobOptions options)
    {
        if (Model.VocabSize != baseline.VocabSize)
            throw GgufOptimizeException.BadInput($"vocabulary size mismatch: baseline has {baseline.VocabSize} tokens, target model '{_path}' has {Model.VocabSize}");
        if (baseline.Header is { } header && Model.TokenizerFingerprint() != header.TokenizerSha256)
            throw GgufOptimizeException.BadInput($"tokenizer mismatch: target model '{_path}' tokenizes differently from the baseline's model '{header.Model.FileName}'");
        if (Model.TrainContext < baseline.ContextSize)
            throw GgufOptimizeException.BadInput($"target model '{_path}' has a training context of {Model.TrainContext}, shorter than the baseline's chunks of {baseline.ContextSize}");
        _evaluator = new ModelChunkEvaluator(Model, ModelChunkEvaluator.OptionsFor(options, baseline.ContextSize));
        // Positions before this are never scored (--skip-first, or a llama.cpp .kld baseline's first half), so their
        // logits need not be computed, as llama-perplexity does not compute them either.
        _firstScored = Math.Max(options.SkipFirst, baseline.FirstStoredPosition);
    }

    /// <summary>
    /// With --target-logits-output: every chunk the target is run on is also written to <paramref name="path"/> in the
    /// baseline format, with the baseline's tokens, so it can later be a --target-logits (or a baseline) without rerunning.
    /// </summary>
    public void StoreLogits(string path, IBaselineSide baseline, KldJobOptions options, IProgressSink progress)
    {
        var evaluator = _evaluator ?? throw new InvalidOperationException("the target is not attached to a baseline");
        var of = baseline.Header ?? throw GgufOptimizeException.BadInput(
            $"--target-logits-output needs a baseline whose dataset is known (one of ours, or --baseline-model); '{baseline.Description}' does not record it");
        var header = new BaselineHeader
        {
            ContextSize = baseline.ContextSize,
            VocabSize = Model.VocabSize,
            TotalChunks = baseline.TotalChunks,
            Precision = 32,
            Model = ModelIdentity.Of(_path),
            DatasetFile = of.DatasetFile,
            DatasetSha256 = of.DatasetSha256,
            TokenizerSha256 = Model.TokenizerFingerprint(),
            AddBos = of.AddBos,
            AddEos = of.AddEos,
            Engine = evaluator.EngineSettings,
        };
        OutputPaths.EnsureWritableDirectory(path, "--target-logits-output");
        _chunks = baseline.TotalChunks;
        _store = BaselineLogitsFile.OpenOrCreate(path, header, new BaselineChunks(baseline), options.Clobber, progress, slots: options.Keep);
    }

    public void Stream(int chunk, int[] tokens, Action<int, LogitRows> onRows)
    {
        var evaluator = _evaluator ?? throw new InvalidOperationException("the target is not attached to a baseline");
        // Stored target logits (--target-logits-output) keep every position; otherwise rows no score reads are skipped
        // (clamped as the comparison clamps --skip-first on a short last chunk).
        int first = _store is null ? Math.Min(_firstScored, Math.Max(0, tokens.Length - 1)) : 0;
        var store = _store is not null && !_store.IsProcessed(chunk) ? _store : null;
        evaluator.Stream(tokens, first, (position, rows, values) =>
        {
            store?.WriteLogits(chunk, position, values);
            onRows(position, rows);
        });
        store?.MarkProcessed(chunk);
    }

    /// <summary>The stored target logits get their final name once every chunk is in (or, with --keep, when the run ends).</summary>
    public void Complete() => _store?.Complete(0, _chunks);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _store?.Dispose();
        _evaluator?.Dispose();
        Model.Dispose();
    }
}
