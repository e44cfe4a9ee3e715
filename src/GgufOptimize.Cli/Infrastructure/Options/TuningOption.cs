using System.CommandLine;
using GgufOptimize.Common;
using GgufOptimize.Tuning;

namespace GgufOptimize.Cli.Infrastructure.Options;

/// <summary>
/// --tuning FILE (logits, kld, imatrix): the batch, ubatch and threads <c>tune</c> recommended, each used unless the
/// user gave that option; the library then refuses the file when the model or context that run are not the ones it
/// was measured for.
/// </summary>
internal sealed class TuningOption
{
    public Option<string?> Option { get; } = new(TuningFile.OptionName)
    {
        Description = "tune.json written by 'gguf-optimize tune' for this model and context size: its batch, ubatch and threads are used where -b, -ub and -t are not given",
        HelpName = "FILE",
    };

    /// <summary>
    /// The file (null when not given) and <paramref name="e"/> with its values wherever <paramref name="engine"/>'s
    /// options were left at their defaults; <paramref name="modelPath"/> is the model that runs (none = refused).
    /// </summary>
    public (StoredTuning? Tuning, EngineArguments Arguments) Apply(ParseResult parse, EngineOptions engine, EngineArguments e, string? modelPath, IProgressSink progress)
    {
        if (parse.GetValue(Option) is not { } path) return (null, e);
        if (modelPath is null) throw GgufOptimizeException.BadInput($"{TuningFile.OptionName} applies to a model this command runs; give the model it was measured for");
        var tuning = TuningFile.Read(path);
        var r = tuning.Recommended;
        var applied = e with
        {
            BatchSize = parse.IsGiven(engine.BatchSize) ? e.BatchSize : r.Batch,
            UBatchSize = parse.IsGiven(engine.UBatchSize) ? e.UBatchSize : r.UBatch,
            Threads = parse.IsGiven(engine.Threads) ? e.Threads : r.Threads,
        };
        var kept = new[] { (engine.BatchSize, "-b"), (engine.UBatchSize, "-ub"), ((Option?)engine.Threads, "-t") }.Where(x => parse.IsGiven(x.Item1)).Select(x => x.Item2).ToList();
        progress.Info($"{TuningFile.OptionName} {path}: -b {applied.BatchSize} -ub {applied.UBatchSize} -t {applied.Threads}{(kept.Count > 0 ? $" ({string.Join(", ", kept)} as given, the file says {r})" : "")}");
        string engineKey = e.Engine.LogitsKey();
        if (engineKey != tuning.EngineOptions)
            progress.Warn($"{TuningFile.OptionName} {path} was measured with engine options '{(tuning.EngineOptions.Length > 0 ? tuning.EngineOptions : "llama.cpp's defaults")}', this run uses '{(engineKey.Length > 0 ? engineKey : "llama.cpp's defaults")}': its speeds may not hold");
        return (tuning, applied);
    }
}
