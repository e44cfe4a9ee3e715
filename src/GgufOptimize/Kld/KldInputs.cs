using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Logits;
using GgufOptimize.Metrics;
using GgufOptimize.Storage;
using GgufOptimize.Storage.Formats;
using GgufOptimize.Storage.Formats.LlamaCpp;

namespace GgufOptimize.Kld;

/// <summary>
/// The two sides of a comparison, opened and checked against each other before any long work: same vocabulary,
/// same tokenizer, same tokens, baseline made from the given dataset.
/// </summary>
internal sealed class KldInputs : IDisposable
{
    private IStoredBaseline? _baselineFile;
    private LlamaModel? _preloadedTarget;
    private ModelChunkEvaluator? _baselineModel;
    private ChunkPlan? _plan;
    private BaselineLogitsFile? _keep;
    private BaselineHeader? _baselineHeader;
    private ModelChunkEvaluator? _targetModel;
    private ILogitsSource? _targetFile;
    private float[] _widened = [];
    private int _scoringThreads = Hardware.PhysicalCores;

    public int TotalChunks { get; private set; }
    public int ContextSize { get; private set; }
    public int VocabSize { get; private set; }
    public string BaselineDescription { get; private set; } = "";
    public string TargetDescription { get; private set; } = "";
    private string _baselineIdentity = "";
    /// <summary>The baseline's header when it has one (ours, or made from --baseline-model): its model and text.</summary>
    public BaselineHeader? BaselineHeader => _baselineHeader;
    /// <summary>The header of stored target logits when they have one.</summary>
    public BaselineHeader? TargetHeader { get; private set; }
    private string _targetIdentity = "";

    public static KldInputs Open(KldJobOptions o, IProgressSink progress)
    {
        var inputs = new KldInputs();
        if (o.Threads > 0) inputs._scoringThreads = o.Threads;
        try
        {
            inputs.OpenBaseline(o, progress);
            inputs.OpenTarget(o);
            inputs._preloadedTarget = null;
            return inputs;
        }
        catch
        {
            inputs.Dispose();
            throw;
        }
    }

    private void OpenBaseline(KldJobOptions o, IProgressSink progress)
    {
        if (o.BaselineLogits is { } path)
        {
            var kind = StoredBaselines.Detect(path);
            if (kind is StoredLogitsKind.LlamaCpp or StoredLogitsKind.PythonTool)
            {
                // These files need the evaluating model to rebuild or adjust their chunks: load it first.
                if (o.TargetModel is null)
                    throw GgufOptimizeException.BadInput($"baseline '{path}' ({(kind == StoredLogitsKind.LlamaCpp ? "llama.cpp .kld" : "llama-gguf-optimize HDF5")}) can only be compared with --target-model");
                if (kind == StoredLogitsKind.PythonTool && o.Dataset is null)
                    throw GgufOptimizeException.BadInput($"baseline '{path}' was written by llama-gguf-optimize and stores no tokens: give --dataset, the text it was made from");
                _preloadedTarget = LlamaModel.Load(o.TargetModel);
            }
            var reader = StoredBaselines.OpenBaseline(path, new BaselineOpenContext { Model = _preloadedTarget, DatasetPath = o.Dataset });
            _baselineFile = reader;
            _baselineHeader = reader.Header;
            if (o.Dataset is not null && reader.Header is { } header)
            {
                var corpus = TextCorpus.Load(o.Dataset);
                if (corpus.Sha256 != header.DatasetSha256)
                    throw GgufOptimizeException.BadInput($"baseline '{path}' was made from dataset '{header.DatasetFile}' (sha256 {header.DatasetSha256[..12]}…), not '{o.Dataset}' (sha256 {corpus.Sha256[..12]}…)");
            }
            if (o.Dataset is not null && reader is LlamaCppKldReader kld) CheckKldTokens(kld, o.Dataset, _preloadedTarget!);
            TotalChunks = reader.TotalChunks;
            ContextSize = reader.ContextSize;
            VocabSize = reader.VocabSize;
            BaselineDescription = Path.GetFileName(path);
            _baselineIdentity = reader.Identity;
            if (reader.FirstStoredPosition > o.SkipFirst)
                progress.Info($"baseline '{path}' stores positions {reader.FirstStoredPosition}..{reader.ContextSize - 2} of each chunk (llama-perplexity's second half); only those are scored");
            int done = reader.ProcessedCount;
            if (done < reader.TotalChunks)
                progress.Warn($"baseline '{path}' holds {done} of {reader.TotalChunks} chunks; only those are compared");
            return;
        }

        var model = LlamaModel.Load(o.BaselineModel!);
        int ctx = LogitsJob.ResolveContextSize(o.ContextSize, model, progress);
        var corpusText = TextCorpus.Load(o.Dataset!);
        _plan = ChunkPlan.ForModel(model.Tokenize(corpusText.Text), ctx, model.AddBos, model.Bos, model.AddEos, model.Eos);
        _baselineModel = new ModelChunkEvaluator(model, EvaluatorFor(o, ctx));
        var identity = ModelIdentity.Of(o.BaselineModel!);
        _baselineHeader = new BaselineHeader
        {
            ContextSize = ctx,
            VocabSize = model.VocabSize,
            TotalChunks = _plan.ChunkCount,
            Precision = 32,
            Model = identity,
            DatasetFile = Path.GetFileName(o.Dataset!),
            DatasetSha256 = corpusText.Sha256,
            TokenizerSha256 = model.TokenizerFingerprint(),
            AddBos = _plan.Bos.HasValue,
            AddEos = _plan.Eos.HasValue,
        };
        if (o.KeepLogits is { } keep)
        {
            OutputPaths.EnsureWritableDirectory(keep, "--keep-logits");
            _keep = BaselineLogitsFile.OpenOrCreate(keep, _baselineHeader, _plan, o.Clobber, progress);
        }
        TotalChunks = _plan.ChunkCount;
        ContextSize = ctx;
        VocabSize = model.VocabSize;
        BaselineDescription = Path.GetFileName(o.BaselineModel!);
        _baselineIdentity = $"model {identity.Sha256} on {corpusText.Sha256}, n_ctx {ctx}";
    }

    private void OpenTarget(KldJobOptions o)
    {
        if (o.TargetModel is { } path)
        {
            var model = _preloadedTarget ?? LlamaModel.Load(path);
            if (model.VocabSize != VocabSize)
            {
                model.Dispose();
                throw GgufOptimizeException.BadInput($"vocabulary size mismatch: baseline has {VocabSize} tokens, target model '{path}' has {model.VocabSize}");
            }
            if (_baselineHeader is not null && model.TokenizerFingerprint() != _baselineHeader.TokenizerSha256)
            {
                model.Dispose();
                throw GgufOptimizeException.BadInput($"tokenizer mismatch: target model '{path}' tokenizes differently from the baseline's model '{_baselineHeader.Model.FileName}'");
            }
            if (model.TrainContext < ContextSize)
            {
                model.Dispose();
                throw GgufOptimizeException.BadInput($"target model '{path}' has a training context of {model.TrainContext}, shorter than the baseline's chunks of {ContextSize}");
            }
            _targetModel = new ModelChunkEvaluator(model, EvaluatorFor(o, ContextSize));
            var id = ModelIdentity.Of(path);
            TargetDescription = Path.GetFileName(path);
            _targetIdentity = $"model {id.Sha256}";
            return;
        }
        var target = StoredBaselines.OpenTarget(o.TargetLogits!, new BaselineOpenContext());
        var reader = target.Rows;
        _targetFile = reader;
        if (reader.VocabSize != VocabSize)
            throw GgufOptimizeException.BadInput($"vocabulary size mismatch: baseline has {VocabSize} tokens, target logits '{o.TargetLogits}' have {reader.VocabSize}");
        if (reader.ContextSize != ContextSize)
            throw GgufOptimizeException.BadInput($"context mismatch: baseline chunks have {ContextSize} tokens, target logits '{o.TargetLogits}' have {reader.ContextSize}");
        if (target.Header is { } th && _baselineHeader is { } bh && (th.DatasetSha256 != bh.DatasetSha256 || th.TokenizerSha256 != bh.TokenizerSha256))
            throw GgufOptimizeException.BadInput($"target logits '{o.TargetLogits}' were computed on other tokens (dataset or tokenizer differs from the baseline's)");
        TargetDescription = Path.GetFileName(o.TargetLogits!);
        TargetHeader = target.Header;
        _targetIdentity = target.Identity;
    }

    /// <summary>With --dataset next to a .kld baseline, its stored tokens must be the dataset's, tokenized as llama-perplexity does.</summary>
    private static void CheckKldTokens(LlamaCppKldReader kld, string dataset, LlamaModel model)
    {
        var corpus = TextCorpus.Load(dataset);
        var chunks = LlamaCppChunks.FromText(model.Tokenize(corpus.Text), kld.ContextSize, model.AddBos, model.Bos, false, kld.TotalChunks);
        if (chunks.ChunkCount != kld.TotalChunks || !chunks.Tokens.SequenceEqual(kld.StoredTokens))
            throw GgufOptimizeException.BadInput($"baseline '{kld.Path}' holds other tokens than '{dataset}' tokenized by the target model (another text, or another tokenizer)");
    }

    private static EvaluatorOptions EvaluatorFor(KldJobOptions o, int ctx) => new()
    {
        ContextSize = ctx, BatchSize = o.BatchSize, UBatchSize = o.UBatchSize, Threads = o.Threads,
    };

    /// <summary>What must be equal for saved chunk results to be reused.</summary>
    public IReadOnlyDictionary<string, string> Identity(int skipFirst) => new Dictionary<string, string>
    {
        ["id_baseline"] = _baselineIdentity,
        ["id_target"] = _targetIdentity,
        ["id_skip_first"] = skipFirst.ToString(),
    };

    public bool BaselineHasChunk(int chunk) => _baselineFile?.HasChunk(chunk) ?? true;

    public ChunkResult Compare(int chunk, int skipFirst)
    {
        int[] tokens = _plan is not null ? _plan.Chunk(chunk) : _baselineFile!.ChunkTokens(chunk);
        if (_targetFile is not null)
        {
            if (!_targetFile.HasChunk(chunk))
                throw GgufOptimizeException.BadInput($"target logits '{_targetFile.Path}' lack chunk {chunk} that the baseline has");
            if (!_targetFile.ChunkTokens(chunk).AsSpan().SequenceEqual(tokens))
                throw GgufOptimizeException.BadInput($"target logits '{_targetFile.Path}' were computed on other tokens than the baseline at chunk {chunk}");
        }
        int skip = Math.Min(skipFirst, Math.Max(0, tokens.Length - 1));

        if (_baselineModel is not null)
        {
            // Generate-both mode: the baseline chunk lives only in this copy (and in --keep-logits when asked).
            var baseline = _baselineModel.Evaluate(tokens).ToArray();
            if (_keep is not null && !_keep.IsProcessed(chunk))
            {
                _keep.WriteLogits(chunk, 0, baseline);
                _keep.MarkProcessed(chunk);
            }
            return ParallelChunkScorer.Score(chunk, baseline, _targetModel!.Evaluate(tokens), tokens, VocabSize, skip, _scoringThreads);
        }

        var stored = _baselineFile!;
        if (_targetModel is not null)
            return stored.Score(chunk, _targetModel.Evaluate(tokens), tokens, skip, _scoringThreads);
        var t = _targetFile!;
        if (stored.Rows is not { } file)
            return stored.Score(chunk, t.IsHalf ? Widen(t.ChunkLogitsHalf(chunk)) : t.ChunkLogits(chunk), tokens, skip, _scoringThreads);
        if (file.IsHalf && t.IsHalf) return ParallelChunkScorer.Score(chunk, file.ChunkLogitsHalf(chunk), t.ChunkLogitsHalf(chunk), tokens, VocabSize, skip, _scoringThreads);
        if (file.IsHalf) return ParallelChunkScorer.Score(chunk, file.ChunkLogitsHalf(chunk), t.ChunkLogits(chunk), tokens, VocabSize, skip, _scoringThreads);
        ReadOnlySpan<float> targetRows = t.IsHalf ? Widen(t.ChunkLogitsHalf(chunk)) : t.ChunkLogits(chunk);
        return ParallelChunkScorer.Score(chunk, file.ChunkLogits(chunk), targetRows, tokens, VocabSize, skip, _scoringThreads);
    }

    private ReadOnlySpan<float> Widen(ReadOnlySpan<Half> half)
    {
        if (_widened.Length < half.Length) _widened = new float[half.Length];
        HalfConversion.ToSingle(half, _widened.AsSpan(0, half.Length));
        return _widened.AsSpan(0, half.Length);
    }

    /// <summary>With --keep-logits, the kept baseline is renamed to its final name once every chunk is in.</summary>
    public void CompleteKeptLogits()
    {
        _keep?.Complete(0, TotalChunks);
    }

    public void Dispose()
    {
        _baselineFile?.Dispose();
        _preloadedTarget?.Dispose();
        _baselineModel?.Dispose();
        _keep?.Dispose();
        _targetModel?.Dispose();
        _targetFile?.Dispose();
    }
}
