using System.CommandLine;
using GgufOptimize.Cli.Infrastructure;
using GgufOptimize.Cli.Infrastructure.Options;
using GgufOptimize.Common;
using GgufOptimize.Kld;
using GgufOptimize.Reporting;

namespace GgufOptimize.Cli.Commands;

internal static class KldCommand
{
    public static Command Create()
    {
        var baselineLogits = new Option<string?>("--baseline-logits") { Description = "Stored baseline: ours (full or compact), a llama.cpp .kld, or llama-gguf-optimize HDF5" };
        var baselineModel = new Option<string?>("--baseline-model") { Description = "Baseline model, run on --dataset next to the target (generate-both mode)" };
        var targetModel = new Option<string?>("--target-model") { Description = "Model to compare (e.g. a quantization), run on the baseline's tokens" };
        var targetLogits = new Option<string?>("--target-logits") { Description = "Stored logits of the target, made on the same tokens" };
        var dataset = new Option<string?>(OptionVocabulary.Dataset.Name, OptionVocabulary.Dataset.Aliases) { Description = "Text for --baseline-model; with --baseline-logits it is checked against the baseline's dataset" };
        var output = SharedOptions.Output("Comparison file (HDF5) to write", "kld_comparison.h5", "--output-file");
        var json = new JsonOption();
        var keep = new Option<string?>("--keep-logits") { Description = "With --baseline-model: store its logits here for reuse" };
        var targetOutput = new Option<string?>("--target-logits-output") { Description = "With --target-model: also store the target's logits here (baseline format, usable later as --target-logits)" };
        var keepChunks = new Option<int?>("--keep") { Description = "Generated logits files (--keep-logits, --target-logits-output) hold only the last N chunks, reusing their slots (default: every chunk)" };
        var range = new ChunkRange();
        var shard = new ShardOption();
        var overwrite = SharedOptions.Overwrite();
        var skipFirst = new Option<int>("--skip-first") { Description = "Score only positions >= N of each chunk (llama-perplexity scores the second half)", DefaultValueFactory = _ => 0 };
        var early = new Option<bool>("--early-stopping") { Description = "Compare chunks in seeded random order and stop once the Score of the whole range is known to within --margin-of-error at --confidence" };
        var confidence = new Option<double>("--confidence") { Description = "Confidence of the early-stopping interval", DefaultValueFactory = _ => 0.95 };
        var margin = new Option<double>("--margin-of-error") { Description = "Relative half-width of the Score interval that stops the run", DefaultValueFactory = _ => 0.05 };
        var minChunks = new Option<int>("--min-chunks") { Description = "Chunks compared (in seeded random order) before early stopping first looks", DefaultValueFactory = _ => GgufOptimize.Metrics.EarlyStoppingOptions.DefaultMinChunks };
        var resamples = new Option<int>("--resamples") { Description = "Bootstrap resamples for the early-stopping interval", DefaultValueFactory = _ => 1000 };
        var engine = EngineOptions.Evaluation();
        var tuning = new TuningOption();

        var command = new Command("kld", "Compare a target model or stored logits with the baseline: per-token KL-divergence and statistics")
        {
            baselineLogits, baselineModel, targetModel, targetLogits, dataset,
        };
        output.AddTo(command);
        command.Options.Add(json.Option);
        command.Options.Add(keep);
        command.Options.Add(targetOutput);
        command.Options.Add(keepChunks);
        range.AddTo(command);
        command.Options.Add(shard.Option);
        overwrite.AddTo(command);
        foreach (var o in new Option[] { skipFirst, early, confidence, margin, minChunks, resamples }) command.Options.Add(o);
        engine.AddTo(command);
        command.Options.Add(tuning.Option);
        CommandRunner.SetAction(command, (parse, ctx, ct) =>
        {
            var e = engine.Read(parse, parse.GetValue(targetModel) ?? parse.GetValue(baselineModel), ctx.Progress);
            (var tuned, e) = tuning.Apply(parse, engine, e, parse.GetValue(targetModel) ?? parse.GetValue(baselineModel), ctx.Progress);
            var result = KldJob.Run(new KldJobOptions
            {
                BaselineLogits = parse.GetValue(baselineLogits),
                Engine = e.Engine,
                Tuning = tuned,
                BaselineModel = parse.GetValue(baselineModel),
                TargetModel = parse.GetValue(targetModel),
                TargetLogits = parse.GetValue(targetLogits),
                Dataset = parse.GetValue(dataset),
                OutputFile = output.Get(parse)!,
                KeepLogits = parse.GetValue(keep),
                TargetLogitsOutput = parse.GetValue(targetOutput),
                Keep = parse.GetValue(keepChunks),
                FromChunk = parse.GetValue(range.From),
                ToChunk = parse.GetValue(range.To),
                Shard = shard.Read(parse),
                Clobber = overwrite.Get(parse),
                SkipFirst = parse.GetValue(skipFirst),
                EarlyStopping = parse.GetValue(early),
                Confidence = parse.GetValue(confidence),
                MarginOfError = parse.GetValue(margin),
                MinChunks = parse.GetValue(minChunks),
                Resamples = parse.GetValue(resamples),
                ContextSize = e.ContextSize,
                BatchSize = e.BatchSize,
                UBatchSize = e.UBatchSize,
                Threads = e.Threads,
            }, ctx.Progress, ct);
            json.Emit(parse, () => KldReport.Json(result).ToJsonString(JsonOutput.Options), () => KldReport.Table(result));
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }
}
