using System.Diagnostics;
using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Engine;

namespace GgufOptimize.Tuning;

/// <summary>
/// <c>tune</c>'s work: load the model, prepare the chunks of one trial, search batch/ubatch/threads with
/// <see cref="TuningSearch"/> on real llama.cpp contexts, and write tune.json in one piece.
/// </summary>
internal static class TuneJob
{
    /// <summary>Tokens a trial decodes at least by default: fewer make a trial so short that timer and scheduler noise dominate.</summary>
    public const int MinTokensPerTrial = 1024;
    /// <summary>Seed of the random tokens used when no text is given.</summary>
    public const ulong RandomTokensSeed = 1;

    public static TuneResult Run(TuneOptions options, IProgressSink progress, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        if (options.ChunksPerTrial < 0) throw GgufOptimizeException.BadInput($"--chunks must not be negative (got {options.ChunksPerTrial})");
        if (options.Rule.Repeats < 1) throw GgufOptimizeException.BadInput($"--repeats must be at least 1 (got {options.Rule.Repeats})");
        if (!(options.Rule.MinGain >= 0 && options.Rule.MinGain < 1)) throw GgufOptimizeException.BadInput($"--min-gain must be in [0, 1) (got {options.Rule.MinGain})");
        if (options.Threads < 0) throw GgufOptimizeException.BadInput($"--threads must not be negative (got {options.Threads})");
        OutputPaths.EnsureWritableDirectory(options.OutputPath, "--output");
        using var claim = OutputLock.Acquire(options.OutputPath, "--output");
        if (File.Exists(options.OutputPath) && !options.Overwrite)
            throw GgufOptimizeException.BadInput($"--output '{options.OutputPath}' already exists; add --overwrite to measure again and replace it");

        using var model = LlamaModel.Load(options.ModelPath, options.Engine);
        int context = ChunkContext.Resolve(options.ContextSize, model.TrainContext, progress);
        var machine = MachineDescription.Current();
        bool searchThreads = options.Threads == 0;
        var space = new TuningSpace(context, searchThreads ? Hardware.DefaultThreads(model.ParameterCount) : options.Threads,
            Hardware.PhysicalCores, Environment.ProcessorCount, searchThreads);
        Func<int, IReadOnlyList<int[]>> take = options.DatasetPath is { } dataset ? TextChunks(model, dataset, context, progress) : count => RandomChunks(model, context, count);
        string source = options.DatasetPath is { } d ? Path.GetFileName(d) : $"random tokens (seed {RandomTokensSeed})";
        int chunkCount = options.ChunksPerTrial > 0 ? options.ChunksPerTrial : ChunksFor(model, context, space.Defaults, take(1)[0]);
        var chunks = take(chunkCount);
        var identity = ModelIdentity.Of(options.ModelPath);

        progress.Info($"tune: {Path.GetFileName(options.ModelPath)}, context {context}, {chunks.Count} chunk(s) ({chunks.Sum(c => c.Length)} tokens) per trial, at most {options.MaxTrials} trials; defaults {space.Defaults}");
        TuningOutcome outcome;
        int warmUps;
        using (var meter = new EngineThroughputMeter(model, context, chunks))
        {
            outcome = TuningSearch.Run(space, meter, options.Rule, options.MaxTrials, progress, cancellationToken);
            warmUps = meter.WarmUps;
        }

        var result = new TuneResult
        {
            OutputPath = options.OutputPath,
            Model = identity,
            ContextSize = context,
            EngineOptions = options.Engine.LogitsKey(),
            Machine = machine,
            TextSource = source,
            ChunksPerTrial = chunks.Count,
            TokensPerTrial = chunks.Sum(c => (long)c.Length),
            Rule = options.Rule,
            MaxTrials = options.MaxTrials,
            Trials = outcome.Trials,
            WarmUps = warmUps,
            Stop = outcome.Stop,
            ThreadsSearched = searchThreads,
            Defaults = outcome.Defaults,
            Recommended = outcome.Recommended,
            SpeedupOverDefaults = outcome.Recommended == outcome.Defaults ? 1 : outcome.Confirmation!.MedianRatio,
            Table = Table(outcome),
            Comparisons = outcome.Comparisons,
            Confirmation = outcome.Confirmation,
            CreatedUtc = DateTime.UtcNow,
            Seconds = clock.Elapsed.TotalSeconds,
        };
        cancellationToken.ThrowIfCancellationRequested();
        TuningFile.Write(options.OutputPath, result);
        return result;
    }

    /// <summary>Every measured setting with the median of its trials, fastest first; speeds relative to the defaults' median.</summary>
    internal static IReadOnlyList<TuningRow> Table(TuningOutcome outcome)
    {
        double? defaults = outcome.Samples.TryGetValue(outcome.Defaults, out var d) ? TuningComparison.Median(d) : null;
        return outcome.Samples
            .Select(kv => new TuningRow(kv.Key, TuningComparison.Median(kv.Value), kv.Value.Count, defaults is { } x ? TuningComparison.Median(kv.Value) / x : null))
            .OrderByDescending(r => r.TokensPerSecond)
            .ToList();
    }

    /// <summary>
    /// The chunks a default trial decodes: at least <see cref="MinTokensPerTrial"/> tokens and, timed at the defaults
    /// after a warm-up, at least <see cref="MinSecondsPerTrial"/> — a tiny model decodes 1,024 tokens in milliseconds,
    /// where one preemption by another process decides the pair.
    /// </summary>
    private static int ChunksFor(LlamaModel model, int context, TuningSetting defaults, int[] chunk)
    {
        int byTokens = (MinTokensPerTrial + context - 1) / context;
        using var evaluator = new LlamaEvaluator(model, new EvaluatorOptions { ContextSize = context, BatchSize = defaults.Batch, UBatchSize = defaults.UBatch, Threads = defaults.Threads });
        evaluator.DecodeOnly(chunk);
        var clock = Stopwatch.StartNew();
        evaluator.DecodeOnly(chunk);
        double perChunk = Math.Max(clock.Elapsed.TotalSeconds, 1e-6);
        return Math.Clamp((int)Math.Ceiling(MinSecondsPerTrial / perChunk), byTokens, Math.Max(byTokens, MaxChunksPerTrial));
    }

    /// <summary>Seconds a default trial lasts at least (when <see cref="TuneOptions.ChunksPerTrial"/> is 0).</summary>
    public const double MinSecondsPerTrial = 0.25;
    /// <summary>Most chunks a default trial decodes, however fast the model.</summary>
    public const int MaxChunksPerTrial = 256;

    /// <summary>A source of the first N full chunks of the text (repeated when it is shorter), as logits would cut it.</summary>
    private static Func<int, IReadOnlyList<int[]>> TextChunks(LlamaModel model, string path, int context, IProgressSink progress)
    {
        var corpus = TextCorpus.Load(path);
        var plan = ChunkPlan.ForModel(model.Tokenize(corpus.Text, progress), context, model.AddBos, model.Bos, model.AddEos, model.Eos);
        int full = plan.ChunkLength(plan.ChunkCount - 1) == context ? plan.ChunkCount : Math.Max(1, plan.ChunkCount - 1);
        return count =>
        {
            if (plan.ChunkCount < count && count > 1)
                progress.Info($"'{path}' has {plan.ChunkCount} chunk(s) of {context} tokens; a trial repeats them to decode {count}");
            return Enumerable.Range(0, count).Select(i => plan.Chunk(i % full)).ToList();
        };
    }

    /// <summary>Seeded random token ids: decode speed does not depend on which tokens are decoded, only how many.</summary>
    private static IReadOnlyList<int[]> RandomChunks(LlamaModel model, int context, int count)
    {
        var random = new Xoshiro256(RandomTokensSeed);
        var chunks = new List<int[]>(count);
        for (int c = 0; c < count; c++)
        {
            var tokens = new int[context];
            for (int i = 0; i < context; i++) tokens[i] = (int)(random.NextUInt64() % (ulong)model.VocabSize);
            if (model.AddBos && model.Bos is { } bos) tokens[0] = bos;
            chunks.Add(tokens);
        }
        return chunks;
    }
}
