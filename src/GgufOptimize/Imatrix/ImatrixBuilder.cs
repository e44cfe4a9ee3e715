using System.Diagnostics;
using System.Text;
using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Engine;

namespace GgufOptimize.Imatrix;

/// <summary>
/// Computes an importance matrix from a calibration text (what llama-imatrix does), merges and converts
/// imatrix files, and resumes an interrupted run from its last snapshot.
/// </summary>
internal static class ImatrixBuilder
{
    public const int MaxDefaultContext = 512;

    public static ImatrixResult Run(ImatrixOptions options, IProgressSink progress, CancellationToken cancellationToken = default)
    {
        Validate(options);
        var clock = Stopwatch.StartNew();
        string output = Path.GetFullPath(options.OutputPath);
        OutputPaths.EnsureWritableDirectory(output, "--output");
        // Claimed before looking at the output: a run killed after its final rename left its lock file and maybe
        // its snapshot, which this run removes even when it has nothing else to do.
        using var claim = OutputLock.Acquire(output, "--output");
        if (File.Exists(output) && !options.Overwrite)
        {
            AtomicFile.TryDelete(ImatrixSnapshot.PathFor(output));
            progress.Info($"{options.OutputPath} exists; skipped (use --overwrite to compute it again)");
            return new ImatrixResult { OutputPath = output, Skipped = true };
        }

        var matrix = new ImportanceMatrix();
        int legacyChunk = options.ContextSize > 0 ? options.ContextSize : ImatrixFile.DefaultLegacyChunkSize;
        foreach (var file in options.InFiles)
        {
            var loaded = ImatrixFile.Load(file, legacyChunk);
            if (matrix.ChunkSize != 0 && loaded.ChunkSize != 0 && loaded.ChunkSize != matrix.ChunkSize)
                progress.Warn($"{file} was computed with chunks of {loaded.ChunkSize} tokens, the files before it with {matrix.ChunkSize}");
            matrix.Merge(loaded);
        }

        if (options.ModelPath is null)
        {
            ImatrixFile.Save(matrix, output, options.Format);
            return new ImatrixResult { OutputPath = output, Entries = matrix.Count, ChunkCount = matrix.ChunkCount, Elapsed = clock.Elapsed };
        }
        return Compute(options, output, matrix, clock, progress, cancellationToken);
    }

    private static ImatrixResult Compute(ImatrixOptions options, string output, ImportanceMatrix matrix, Stopwatch clock,
        IProgressSink progress, CancellationToken cancellationToken)
    {
        string datasetPath = options.DatasetPath!;
        var corpus = TextCorpus.Load(datasetPath);
        using var model = LlamaModel.Load(options.ModelPath!, options.Engine);
        int context = options.ContextSize > 0 ? options.ContextSize
            : model.TrainContext > 0 ? Math.Min(model.TrainContext, MaxDefaultContext) : MaxDefaultContext;
        options.Tuning?.Check(options.ModelPath!, context);
        if (model.AddBos && model.Bos is null) throw GgufOptimizeException.BadInput($"model '{options.ModelPath}' asks for a BOS token but defines none");
        if (model.AddEos && model.Eos is null) throw GgufOptimizeException.BadInput($"model '{options.ModelPath}' asks for an EOS token but defines none");

        var plan = ChunkPlan.ForModel(model.Tokenize(corpus.Text, progress), context, model.AddBos, model.Bos, model.AddEos, model.Eos);
        int available = plan.ChunkCount;
        if (options.FromChunk >= available)
            throw GgufOptimizeException.BadInput($"--from-chunk {options.FromChunk} is past the end: '{datasetPath}' has {available} chunks of {context} tokens");
        int first = options.FromChunk;
        int planned = Math.Min(options.Chunks ?? int.MaxValue, available - options.FromChunk);
        ImatrixCoverage? coverage = null;
        if (options.Shard is { } shard)
        {
            var part = shard.Select(new ChunkRange(first, first + planned), c => plan.ChunkLength(c));
            (first, planned) = (part.From, part.Count);
            progress.Info($"shard {shard}: chunks {part.From}..{part.To - 1} of {available}");
            var evaluation = new EvaluatorOptions { ContextSize = context, BatchSize = options.BatchSize, UBatchSize = options.UBatchSize };
            coverage = new ImatrixCoverage(part.From, part.To, available, ModelIdentity.Of(options.ModelPath!).Sha256, corpus.Sha256,
                $"{EngineParams.Describe(LlamaEvaluator.ContextParams(evaluation, options.Engine, threads: 1, model.VocabSize), options.Engine)}; process_output {options.ProcessOutput}");
        }

        string identity = Identity(options with { FromChunk = first }, corpus.Sha256, context);
        string snapshotPath = ImatrixSnapshot.PathFor(output);
        int done = 0;
        var snapshot = ImatrixSnapshot.TryRead(snapshotPath);
        if (snapshot is not null && snapshot.Identity == identity && snapshot.ChunksDone <= planned)
        {
            matrix = snapshot.Matrix;
            done = snapshot.ChunksDone;
            progress.Info($"resuming from {Path.GetFileName(snapshotPath)}: {done} of {planned} chunks already done");
        }
        else
        {
            if (snapshot is not null) progress.Warn($"{snapshotPath} belongs to a run with other settings; starting over");
            matrix.ChunkSize = context;
            // Relative to the imatrix's folder, so the file does not depend on where the run happened.
            matrix.Datasets.Add(RecordedPath.Of(datasetPath, output));
        }
        matrix.Coverage = coverage;
        int resumed = done;

        long tokensEvaluated = 0;
        var evalClock = new Stopwatch();
        using (var capture = new ActivationCapture(matrix, options.ProcessOutput))
        using (var evaluator = capture.CreateEvaluator(model, new EvaluatorOptions { ContextSize = context, BatchSize = options.BatchSize, UBatchSize = options.UBatchSize, Threads = options.Threads }))
        {
            progress.Start($"imatrix {Path.GetFileName(options.ModelPath)}", planned);
            progress.Report(done);
            try
            {
                for (; done < planned; done++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int index = first + done;
                    var chunk = plan.Chunk(index);
                    evalClock.Start();
                    evaluator.DecodeOnly(chunk, allLogits: true);
                    evalClock.Stop();
                    if (capture.Failure is { } failure)
                    {
                        throw capture.NonFiniteWeight is not null
                            ? GgufOptimizeException.Runtime($"{failure}, chunk {index} of '{datasetPath}' (the model produces NaN or infinity there)")
                            : GgufOptimizeException.Runtime($"{failure} (chunk {index})");
                    }
                    matrix.ChunkCount++;
                    tokensEvaluated += chunk.Length;
                    progress.Report(done + 1, chunk.Length);
                    if (options.SaveFrequency > 0 && (done + 1) % options.SaveFrequency == 0 && done + 1 < planned)
                        new ImatrixSnapshot(matrix, done + 1, identity).Write(snapshotPath);
                }
            }
            catch (OperationCanceledException)
            {
                progress.Finish();
                if (done > resumed) new ImatrixSnapshot(matrix, done, identity).Write(snapshotPath);
                throw;
            }
            progress.Finish();
        }

        ImatrixFile.Save(matrix, output, options.Format);
        AtomicFile.TryDelete(snapshotPath);
        return new ImatrixResult
        {
            OutputPath = output,
            ChunksEvaluated = done - resumed,
            ChunksResumed = resumed,
            TokensEvaluated = tokensEvaluated,
            Entries = matrix.Count,
            ChunkCount = matrix.ChunkCount,
            Elapsed = evalClock.Elapsed,
        };
    }

    private static void Validate(ImatrixOptions o)
    {
        if (o.ModelPath is null && o.DatasetPath is not null) throw GgufOptimizeException.BadInput("--dataset needs --model");
        if (o.ModelPath is not null && o.DatasetPath is null) throw GgufOptimizeException.BadInput("--model needs --dataset (the calibration text)");
        if (o.ModelPath is null && o.InFiles.Count == 0) throw GgufOptimizeException.BadInput("give --model and --dataset to compute an imatrix, or --in-file to merge or convert");
        if (o.Chunks is <= 0) throw GgufOptimizeException.BadInput($"--chunks must be positive (got {o.Chunks})");
        if (o.FromChunk < 0) throw GgufOptimizeException.BadInput($"--from-chunk must not be negative (got {o.FromChunk})");
        if (o.ContextSize < 0) throw GgufOptimizeException.BadInput($"--context-size must be positive (got {o.ContextSize})");
        if (o.BatchSize < 0) throw GgufOptimizeException.BadInput($"--batch-size must be positive (got {o.BatchSize})");
        if (o.Shard is { } shard && o.InFiles.Count > 0)
            throw GgufOptimizeException.BadInput($"{ChunkShard.Option} {shard}: a shard holds only its own chunks; add --in-file imatrices when merging, not to a shard");
        if (o.Shard is { } s && o.Format != ImatrixFileFormat.Gguf)
            throw GgufOptimizeException.BadInput($"{ChunkShard.Option} {s}: a shard records its chunk range in GGUF keys, which the legacy .dat format cannot hold; use --output-format gguf");
        if (o.SaveFrequency < 0) throw GgufOptimizeException.BadInput($"--save-frequency must not be negative (got {o.SaveFrequency})");
        foreach (var f in o.InFiles)
            if (Path.GetFullPath(f) == Path.GetFullPath(o.OutputPath) && !o.Overwrite)
                throw GgufOptimizeException.BadInput($"--in-file '{f}' is also the output; add --overwrite to replace it");
    }

    /// <summary>Everything that decides the numbers: a snapshot only resumes a run that would compute the same thing.</summary>
    private static string Identity(ImatrixOptions o, string datasetSha256, int context)
    {
        var model = new FileInfo(o.ModelPath!);
        var text = new StringBuilder()
            .Append("model=").Append(model.FullName).Append(':').Append(model.Length).Append(':').Append(model.LastWriteTimeUtc.Ticks)
            .Append(";dataset=").Append(datasetSha256)
            .Append(";ctx=").Append(context).Append(";batch=").Append(o.BatchSize)
            .Append(o.UBatchSize > 0 ? $";ubatch={o.UBatchSize}" : "")
            .Append(";from=").Append(o.FromChunk).Append(";output-weight=").Append(o.ProcessOutput);
        if (o.Engine.LogitsKey() is { Length: > 0 } engine) text.Append(";engine=").Append(engine);
        foreach (var f in o.InFiles)
        {
            var info = new FileInfo(f);
            text.Append(";in=").Append(info.FullName).Append(':').Append(info.Length).Append(':').Append(info.LastWriteTimeUtc.Ticks);
        }
        return text.ToString();
    }

}
