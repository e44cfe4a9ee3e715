using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Metrics;
using GgufOptimize.Storage;
using GgufOptimize.Storage.Formats;

namespace GgufOptimize.Kld;

/// <summary>
/// The two sides of a comparison, opened and checked against each other before any long work: same vocabulary,
/// same tokenizer, same tokens, baseline made from the given dataset. Owns both sides.
/// </summary>
internal sealed class KldInputs : IDisposable
{
    private readonly int _scoringThreads;

    public IBaselineSide Baseline { get; }
    public ITargetSide Target { get; }

    private KldInputs(IBaselineSide baseline, ITargetSide target, int scoringThreads)
    {
        Baseline = baseline;
        Target = target;
        _scoringThreads = scoringThreads;
    }

    public static KldInputs Open(KldJobOptions o, IProgressSink progress)
    {
        ModelTargetSide? loadedFirst = null;
        IBaselineSide? baseline = null;
        ITargetSide? target = null;
        try
        {
            if (o.BaselineLogits is { } path)
            {
                var kind = StoredBaselines.Detect(path);
                if (StoredBaselineSide.NeedsTargetModel(kind))
                {
                    if (o.TargetModel is null)
                        throw GgufOptimizeException.BadInput(kind == StoredLogitsKind.LlamaCpp
                            ? $"baseline '{path}' (llama.cpp .kld) can only be compared with --target-model"
                            : $"baseline '{path}' was written by llama-gguf-optimize, whose chunks (BOS + n_ctx−2 text tokens + EOS) differ from ours and are not stored: it can only be compared with --target-model, which is run on its own chunks");
                    if (kind == StoredLogitsKind.PythonTool && o.Dataset is null)
                        throw GgufOptimizeException.BadInput($"baseline '{path}' was written by llama-gguf-optimize and stores no tokens: give --dataset, the text it was made from");
                    loadedFirst = ModelTargetSide.Load(o.TargetModel, o.Engine);
                }
                baseline = StoredBaselineSide.Open(path, kind, o.Dataset, loadedFirst?.Model, o.SkipFirst, progress);
            }
            else baseline = ModelBaselineSide.Open(o, progress);

            target = o.TargetModel is { } model ? loadedFirst ?? ModelTargetSide.Load(model, o.Engine) : StoredTargetSide.Open(o.TargetLogits!);
            loadedFirst = null;
            target.Attach(baseline, o);
            if (o.TargetLogitsOutput is { } store) ((ModelTargetSide)target).StoreLogits(store, baseline, o, progress);
            return new KldInputs(baseline, target, o.Threads > 0 ? o.Threads : Hardware.PhysicalCores);
        }
        catch
        {
            loadedFirst?.Dispose();
            target?.Dispose();
            baseline?.Dispose();
            throw;
        }
    }

    /// <summary>What must be equal for saved chunk results to be reused.</summary>
    public ComparisonInputs Identity(int skipFirst) => new(Baseline.Identity, Target.Identity, skipFirst)
    {
        // Results computed with other engine settings are other results: -ub 16 and -ub 128 differ in KLD_99 by 6 %.
        TargetEngine = Target.EngineSettings,
        BaselineEngine = Baseline.EngineSettings,
    };

    /// <summary>Called once every chunk is compared: generated logits files get their final names.</summary>
    public void Complete()
    {
        Baseline.Complete();
        (Target as ModelTargetSide)?.Complete();
    }

    public ChunkResult Compare(int chunk, int skipFirst)
    {
        int[] tokens = Baseline.ChunkTokens(chunk);
        int skip = Math.Min(skipFirst, Math.Max(0, tokens.Length - 1));
        // Batch by batch: each batch of target rows is scored against the baseline's matching rows, then let go.
        var scoring = Baseline.BeginScore(chunk, tokens, skip, _scoringThreads);
        Target.Stream(chunk, tokens, scoring.Add);
        var result = scoring.Finish();
        if (result.FirstBaselineNonFiniteRow >= 0)
            throw GgufOptimizeException.BadInput($"baseline '{Baseline.Description}': row {result.FirstBaselineNonFiniteRow} of chunk {chunk} holds NaN or Inf, so nothing can be measured against it (a stored baseline is corrupt; a baseline model is broken)");
        return result;
    }

    public void Dispose()
    {
        Target.Dispose();
        Baseline.Dispose();
    }
}
