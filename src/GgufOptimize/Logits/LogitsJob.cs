using System.Diagnostics;
using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Storage;

namespace GgufOptimize.Logits;

/// <summary>
/// Step 1 of the method: run the baseline model over the dataset once and store the logits of every position.
/// Resumable: the output is written in place under <c>NAME.partial</c>, every chunk is flagged done only after
/// its logits are written, and the final name appears only when the requested range is complete.
/// </summary>
public static class LogitsJob
{
    public static LogitsJobResult Run(LogitsJobOptions options, IProgressSink progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        OutputPaths.EnsureWritableDirectory(options.OutputPath, "--output");
        if (options.Precision is not (16 or 32)) throw GgufOptimizeException.BadInput($"--precision must be 16 or 32 (got {options.Precision})");

        using var model = LlamaModel.Load(options.ModelPath);
        int contextSize = ResolveContextSize(options.ContextSize, model, progress);
        var corpus = TextCorpus.Load(options.DatasetPath);
        var plan = ChunkPlan.ForModel(model.Tokenize(corpus.Text), contextSize, model.AddBos, model.Bos, model.AddEos, model.Eos);
        var (from, to) = ResolveRange(options.FromChunk, options.ToChunk, plan.ChunkCount);

        var header = new BaselineHeader
        {
            ContextSize = contextSize,
            VocabSize = model.VocabSize,
            TotalChunks = plan.ChunkCount,
            Precision = options.Precision,
            Model = ModelIdentity.Of(options.ModelPath),
            DatasetFile = Path.GetFileName(options.DatasetPath),
            DatasetSha256 = corpus.Sha256,
            TokenizerSha256 = model.TokenizerFingerprint(),
            AddBos = plan.Bos.HasValue,
            AddEos = plan.Eos.HasValue,
        };

        using var file = BaselineLogitsFile.OpenOrCreate(options.OutputPath, header, plan, options.Clobber, progress);
        int alreadyDone = 0;
        var todo = new List<int>();
        for (int c = from; c < to; c++)
        {
            if (file.IsProcessed(c)) alreadyDone++;
            else todo.Add(c);
        }
        if (alreadyDone > 0 && todo.Count > 0) progress.Info($"resuming: {alreadyDone} of {to - from} chunks already stored in {options.OutputPath}");

        long tokens = 0;
        if (todo.Count > 0)
        {
            using var evaluator = new LlamaEvaluator(model, new EvaluatorOptions
            {
                ContextSize = contextSize,
                BatchSize = options.BatchSize,
                UBatchSize = options.UBatchSize,
                Threads = options.Threads,
            });
            progress.Start("logits", to - from);
            progress.Report(alreadyDone);
            int done = alreadyDone;
            foreach (int c in todo)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var chunk = plan.Chunk(c);
                evaluator.EvaluateChunk(chunk, (first, logits) => file.WriteLogits(c, first, logits));
                file.MarkProcessed(c);
                tokens += chunk.Length;
                progress.Report(++done, chunk.Length);
            }
            progress.Finish();
        }
        file.Complete(from, to);
        return new LogitsJobResult(options.OutputPath, plan.ChunkCount, todo.Count, alreadyDone, tokens, contextSize, model.VocabSize, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The default is the training context capped at 4096 (with a warning); larger than trained is refused.</summary>
    public static int ResolveContextSize(int requested, LlamaModel model, IProgressSink progress)
    {
        if (requested < 0) throw GgufOptimizeException.BadInput($"--context-size must be positive (got {requested})");
        if (requested == 0)
        {
            if (model.TrainContext > LogitsJobOptions.MaxDefaultContext)
            {
                progress.Warn($"the model's training context {model.TrainContext} is capped to {LogitsJobOptions.MaxDefaultContext} tokens per chunk (set --context-size to choose)");
                return LogitsJobOptions.MaxDefaultContext;
            }
            return model.TrainContext;
        }
        if (requested > model.TrainContext)
            throw GgufOptimizeException.BadInput($"--context-size {requested} is larger than the model's training context {model.TrainContext}");
        return requested;
    }

    public static (int From, int To) ResolveRange(int from, int? to, int chunkCount)
    {
        int end = to ?? chunkCount;
        if (from < 0) throw GgufOptimizeException.BadInput($"--from-chunk must be ≥ 0 (got {from})");
        if (from >= chunkCount) throw GgufOptimizeException.BadInput($"--from-chunk {from} is past the last chunk (the dataset has {chunkCount} chunks)");
        if (end > chunkCount) throw GgufOptimizeException.BadInput($"--to-chunk {end} is past the end (the dataset has {chunkCount} chunks)");
        if (end <= from) throw GgufOptimizeException.BadInput($"--to-chunk {end} must be greater than --from-chunk {from}");
        return (from, end);
    }
}
