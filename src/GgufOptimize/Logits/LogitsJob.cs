using System.Diagnostics;
using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Storage;
using GgufOptimize.Storage.Formats;
using GgufOptimize.Storage.Formats.Compact;
using GgufOptimize.Storage.Formats.LlamaCpp;

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
        using var claim = OutputLock.Acquire(options.OutputPath, "--output");
        if (options.Precision is not (16 or 32)) throw GgufOptimizeException.BadInput($"--precision must be 16 or 32 (got {options.Precision})");
        if (options.Format != LogitsFormat.Full && options.Compression != LogitsCompression.None)
            throw GgufOptimizeException.BadInput($"--compression gzip applies to --format full only");
        if (options.Format != LogitsFormat.Full && options.Precision != 32)
            throw GgufOptimizeException.BadInput($"--precision applies to --format full only (compact and llamacpp are computed from float32 logits)");
        if (options.Format == LogitsFormat.Compact && !(options.TailMass > 0 && options.TailMass < 1))
            throw GgufOptimizeException.BadInput($"--tail-mass must be in (0, 1) (got {options.TailMass.ToString(System.Globalization.CultureInfo.InvariantCulture)})");

        using var model = LlamaModel.Load(options.ModelPath);
        int contextSize = ResolveContextSize(options.ContextSize, model, progress);
        var corpus = TextCorpus.Load(options.DatasetPath);
        var textTokens = model.Tokenize(corpus.Text);
        var plan = ChunkPlan.ForModel(textTokens, contextSize, model.AddBos, model.Bos, model.AddEos, model.Eos);
        LlamaCppChunks? kldChunks = null;
        int chunkCount = plan.ChunkCount;
        if (options.Format == LogitsFormat.LlamaCpp)
        {
            if (options.FromChunk != 0) throw GgufOptimizeException.BadInput($"--from-chunk {options.FromChunk}: a llama.cpp .kld file always starts at chunk 0 (use --to-chunk to limit its length)");
            kldChunks = LlamaCppChunks.FromText(textTokens, contextSize, model.AddBos, model.Bos, model.AddEos, options.ToChunk);
            chunkCount = kldChunks.ChunkCount;
        }
        var (from, to) = ResolveRange(options.FromChunk, options.ToChunk, chunkCount);
        Func<int, int[]> chunkTokens = kldChunks is not null ? kldChunks.Chunk : plan.Chunk;

        var header = new BaselineHeader
        {
            ContextSize = contextSize,
            VocabSize = model.VocabSize,
            TotalChunks = chunkCount,
            Precision = options.Precision,
            Model = ModelIdentity.Of(options.ModelPath),
            DatasetFile = Path.GetFileName(options.DatasetPath),
            DatasetSha256 = corpus.Sha256,
            TokenizerSha256 = model.TokenizerFingerprint(),
            AddBos = kldChunks is not null ? kldChunks.Bos.HasValue : plan.Bos.HasValue,
            AddEos = kldChunks is null && plan.Eos.HasValue,
        };

        using var file = OpenWriter(options, header, plan, kldChunks, from, to, progress);
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
            // Storing runs on the queue's thread, overlapping the next chunk's decode.
            using (var queue = new LogitsWriteQueue(file))
            {
                foreach (int c in todo)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var chunk = chunkTokens(c);
                    evaluator.EvaluateChunk(chunk, (first, logits) => queue.Add(c, first, logits));
                    queue.EndChunk(c);
                    tokens += chunk.Length;
                    progress.Report(++done, chunk.Length);
                }
                queue.Finish();
            }
            progress.Finish();
        }
        file.Complete(from, to);
        return new LogitsJobResult(options.OutputPath, chunkCount, todo.Count, alreadyDone, tokens, contextSize, model.VocabSize, clock.Elapsed.TotalSeconds);
    }

    private static IBaselineWriter OpenWriter(LogitsJobOptions o, BaselineHeader header, ChunkPlan plan, LlamaCppChunks? kldChunks, int from, int to, IProgressSink progress) =>
        o.Format switch
        {
            LogitsFormat.Compact => CompactBaselineWriter.OpenOrCreate(o.OutputPath, header, plan, o.TailMass, o.Clobber, progress),
            LogitsFormat.LlamaCpp => LlamaCppKldWriter.OpenOrCreate(o.OutputPath, header, kldChunks!, o.Clobber, progress),
            _ when o.Compression == LogitsCompression.Gzip => CompressedBaselineWriter.OpenOrCreate(o.OutputPath, header, plan, from, to, o.Clobber, progress),
            _ => BaselineLogitsFile.OpenOrCreate(o.OutputPath, header, plan, o.Clobber, progress),
        };

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
