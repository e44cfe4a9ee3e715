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
internal static class LogitsJob
{
    public static LogitsJobResult Run(LogitsJobOptions options, IProgressSink progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        OutputPaths.EnsureWritableDirectory(options.OutputPath, "--output");
        using var claim = OutputLock.Acquire(options.OutputPath, "--output");
        if (options.Precision is not (16 or 32)) throw GgufOptimizeException.BadInput($"--precision must be 16 or 32 (got {options.Precision})");
        if (options.Format != LogitsFormat.Full && options.Compression != LogitsCompression.None)
            throw GgufOptimizeException.BadInput($"--compression {options.Compression.ToString().ToLowerInvariant()} applies to --format full only");
        if (options.Format != LogitsFormat.Full && options.Precision != 32)
            throw GgufOptimizeException.BadInput($"--precision applies to --format full only (compact and llamacpp are computed from float32 logits)");
        if (options.Format is LogitsFormat.Compact or LogitsFormat.QuantizedCompact && !(options.EffectiveTailMass > 0 && options.EffectiveTailMass < 1))
            throw GgufOptimizeException.BadInput($"--tail-mass must be in (0, 1) (got {options.EffectiveTailMass.ToString(System.Globalization.CultureInfo.InvariantCulture)})");

        if (options.Shard is { } s && options.Format == LogitsFormat.LlamaCpp)
            throw GgufOptimizeException.BadInput($"{ChunkShard.Option} {s}: a llama.cpp .kld file always starts at chunk 0 and cannot be split; use --format full or compact");
        if (options.Shard is { } g && options.Compression != LogitsCompression.None)
            throw GgufOptimizeException.BadInput($"{ChunkShard.Option} {g}: shards are written uncompressed (merge reads and copies them); drop --compression");

        // Reading and hashing the dataset and hashing the model file need no llama.cpp: they run on the second core while
        // llama.cpp loads the model, and their errors surface where they did before.
        var corpusRead = Task.Run(() => TextCorpus.Load(options.DatasetPath));
        var identityRead = Task.Run(() => ModelIdentity.Of(options.ModelPath));
        using var model = LlamaModel.Load(options.ModelPath, options.Engine);
        int contextSize = ChunkContext.Resolve(options.ContextSize, model.TrainContext, progress);
        options.Tuning?.Check(options.ModelPath, contextSize);
        var corpus = corpusRead.GetAwaiter().GetResult();
        var textTokens = model.Tokenize(corpus.Text, progress);
        var plan = ChunkPlan.ForModel(textTokens, contextSize, model.AddBos, model.Bos, model.AddEos, model.Eos);
        LlamaCppChunks? kldChunks = null;
        int chunkCount = plan.ChunkCount;
        if (options.Format == LogitsFormat.LlamaCpp)
        {
            if (options.FromChunk != 0) throw GgufOptimizeException.BadInput($"--from-chunk {options.FromChunk}: a llama.cpp .kld file always starts at chunk 0 (use --to-chunk to limit its length)");
            kldChunks = LlamaCppChunks.FromText(textTokens, contextSize, model.AddBos, model.Bos, model.AddEos, options.ToChunk);
            chunkCount = kldChunks.ChunkCount;
        }
        var (from, to) = ChunkRange.Resolve(options.FromChunk, options.ToChunk, chunkCount, toOption: options.ToChunkOption);
        if (options.Shard is { } shard)
        {
            // Every chunk but the last is full, so this weighs the short last chunk by its real length.
            (from, to) = shard.Select(new ChunkRange(from, to), c => plan.ChunkLength(c));
            progress.Info($"shard {shard}: chunks {from}..{to - 1} of {chunkCount}");
        }
        IChunkSource chunks = kldChunks is not null ? kldChunks : plan;

        var evaluatorOptions = new EvaluatorOptions
        {
            ContextSize = contextSize,
            BatchSize = options.BatchSize,
            UBatchSize = options.UBatchSize,
            Threads = options.Threads,
        };
        // The context is made before the output is touched: settings llama.cpp refuses (a cache type the model's head
        // size cannot take) fail here, leaving no partial file behind.
        using var evaluator = new LlamaEvaluator(model, evaluatorOptions);
        var header = new BaselineHeader
        {
            ContextSize = contextSize,
            VocabSize = model.VocabSize,
            TotalChunks = chunkCount,
            Precision = options.Precision,
            Model = identityRead.GetAwaiter().GetResult(),
            DatasetFile = Path.GetFileName(options.DatasetPath),
            DatasetSha256 = corpus.Sha256,
            TokenizerSha256 = model.TokenizerFingerprint(),
            AddBos = kldChunks is not null ? kldChunks.Bos.HasValue : plan.Bos.HasValue,
            AddEos = kldChunks is null && plan.Eos.HasValue,
            Engine = evaluator.EngineSettings,
        };

        bool fresh = CreatesFresh(options);
        // A new full-rows file the disk cannot hold is refused before any decode, as when it was created before them.
        if (fresh && options.Format == LogitsFormat.Full)
            BaselineLogitsFile.EnsureFreeSpace(options.OutputPath, header, options.Compression == LogitsCompression.None ? to - from : null);
        using var output = PendingOutput.Start(() => OpenWriter(options, header, plan, kldChunks, from, to, progress), fresh);
        int alreadyDone = 0;
        var todo = new List<int>();
        for (int c = from; c < to; c++)
        {
            if (output.IsProcessed(c)) alreadyDone++;
            else todo.Add(c);
        }
        if (alreadyDone > 0 && todo.Count > 0) progress.Info($"resuming: {alreadyDone} of {to - from} chunks already stored in {options.OutputPath}");

        long tokens = 0;
        if (todo.Count > 0)
        {
            progress.Start("logits", to - from);
            progress.Report(alreadyDone);
            int done = alreadyDone;
            // Storing runs on the queue's thread, overlapping the next chunk's decode — unless it would compete with the
            // decode for the cores (see StoresOnDecodeThread); then each batch is stored between decodes. A fresh output
            // is still being created during the first decode: the queue is set up when its first rows arrive.
            IBaselineWriter? file = null;
            LogitsWriteQueue? queue = null;
            void Attach()
            {
                file = output.Writer;
                queue = StoresOnDecodeThread(file, options.Engine, NativeRuntime.SupportsGpuOffload) ? null : new LogitsWriteQueue(file, model.VocabSize);
            }
            if (!output.Fresh) Attach();
            // A .kld file keeps only the second half of each chunk: earlier rows are not even computed (a fresh output is
            // one of the formats that store every row, see CreatesFresh).
            int firstStored = queue?.FirstStoredPosition ?? 0;
            try
            {
                foreach (int c in todo)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var chunk = chunks.Chunk(c);
                    evaluator.EvaluateChunk(chunk, (first, logits) =>
                    {
                        if (file is null) Attach();
                        if (queue is null) file!.WriteLogits(c, first, logits);
                        else queue.Add(c, first, logits);
                    }, firstStored);
                    if (file is null) Attach();
                    if (queue is null) file!.MarkProcessed(c);
                    else queue.EndChunk(c);
                    tokens += chunk.Length;
                    progress.Report(++done, chunk.Length);
                }
                queue?.Finish();
            }
            finally
            {
                queue?.Dispose();
            }
            progress.Finish();
        }
        output.Writer.Complete(from, to);
        return new LogitsJobResult(options.OutputPath, chunkCount, todo.Count, alreadyDone, tokens, contextSize, model.VocabSize, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Whether the run's output is created fresh, so that <see cref="PendingOutput"/> may create it during the first
    /// decode: nothing exists that its writer would resume, refuse or replace (the output and its <c>.partial</c>), and the
    /// format stores every row of a chunk (a .kld file starts at n_ctx/2, which the first decode must know).
    /// </summary>
    private static bool CreatesFresh(LogitsJobOptions o) =>
        o.Format != LogitsFormat.LlamaCpp && !File.Exists(o.OutputPath) && !File.Exists(BaselineLayout.PartialPath(o.OutputPath));

    /// <summary>
    /// Whether rows go to <paramref name="file"/> on the decode thread, between decodes, instead of through the write
    /// queue: for the compact formats, whose writer encodes every row itself (the float32/float16/.kld writers get rows
    /// encoded on the decode thread already and only write them; gzip's writes a full file), when llama.cpp decodes on
    /// the CPU. Its encoding thread would take a core from one of the decode threads, and the others then wait at the
    /// next barrier: at Llama 3 8B's width the
    /// queued compact writer cost +2.1 % CPU over a bare decode and the same writer between decodes −5.6 % (within
    /// noise of it), wall +5.3 % against −3.8 % (BENCHMARKS.md, "The compact encoder's cost"). With layers on a GPU the
    /// cores are free during the decode, and the queue overlaps the two.
    /// </summary>
    internal static bool StoresOnDecodeThread(IBaselineWriter file, EngineSettings engine, bool gpuBackend) =>
        file is CompactLogWriter && !(gpuBackend && engine.GpuLayers != 0);
    private static IBaselineWriter OpenWriter(LogitsJobOptions o, BaselineHeader header, ChunkPlan plan, LlamaCppChunks? kldChunks, int from, int to, IProgressSink progress) =>
        o.Format switch
        {
            LogitsFormat.QuantizedCompact => QuantizedBaselineWriter.OpenOrCreate(o.OutputPath, header, plan, o.QuantizedSettings ?? QuantizedRowSettings.Default with { TailMass = o.EffectiveTailMass }, o.Clobber, progress),
            LogitsFormat.Compact => CompactBaselineWriter.OpenOrCreate(o.OutputPath, header, plan, o.EffectiveTailMass, o.Clobber, progress),
            LogitsFormat.LlamaCpp => LlamaCppKldWriter.OpenOrCreate(o.OutputPath, header, kldChunks!, o.Clobber, progress),
            _ when o.Compression != LogitsCompression.None => CompressedBaselineWriter.OpenOrCreate(o.OutputPath, header, plan, from, to, o.Clobber, progress, o.Compression == LogitsCompression.Lzf),
            _ => BaselineLogitsFile.OpenOrCreate(o.OutputPath, header, plan, o.Clobber, progress, chunksToWrite: to - from),
        };
}
