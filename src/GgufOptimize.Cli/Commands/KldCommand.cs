using System.CommandLine;
using GgufOptimize.Cli.Infrastructure;
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
        var dataset = new Option<string?>("--dataset") { Description = "Text for --baseline-model; with --baseline-logits it is checked against the baseline's dataset" };
        var output = new Option<string>("--output-file", "-o") { Description = "Comparison file (HDF5) to write", DefaultValueFactory = _ => "kld_comparison.h5" };
        var json = new Option<string?>("--json") { Description = "Also write the statistics as JSON to this file ('-' for stdout instead of the table)" };
        var keep = new Option<string?>("--keep-logits") { Description = "With --baseline-model: store its logits here for reuse" };
        var from = new Option<int>("--from-chunk") { Description = "First chunk to compare", DefaultValueFactory = _ => 0 };
        var to = new Option<int?>("--to-chunk") { Description = "Stop before this chunk (default: all chunks)" };
        var clobber = new Option<bool>("--clobber") { Description = "Replace an output (or unfinished comparison) made from other inputs" };
        var skipFirst = new Option<int>("--skip-first") { Description = "Score only positions >= N of each chunk (llama-perplexity scores the second half)", DefaultValueFactory = _ => 0 };
        var early = new Option<bool>("--early-stopping") { Description = "Compare chunks in seeded random order and stop once the Score of the whole range is known to within --margin-of-error at --confidence" };
        var confidence = new Option<double>("--confidence") { Description = "Confidence of the early-stopping interval", DefaultValueFactory = _ => 0.95 };
        var margin = new Option<double>("--margin-of-error") { Description = "Relative half-width of the Score interval that stops the run", DefaultValueFactory = _ => 0.05 };
        var minChunks = new Option<int>("--min-chunks") { Description = "Chunks compared (in seeded random order) before early stopping first looks", DefaultValueFactory = _ => GgufOptimize.Metrics.EarlyStoppingOptions.DefaultMinChunks };
        var resamples = new Option<int>("--resamples") { Description = "Bootstrap resamples for the early-stopping interval", DefaultValueFactory = _ => 1000 };
        var context = new Option<int>("--context-size", "-c") { Description = "With --baseline-model: tokens per chunk (0 = training context, capped at 4096)", DefaultValueFactory = _ => 0 };
        var batch = new Option<int>("--batch-size", "-b") { Description = "Logical batch size (0 = the context size)", DefaultValueFactory = _ => 0 };
        var ubatch = new Option<int>("--ubatch-size", "-ub") { Description = "Physical batch size (0 = the batch size)", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads", "-t") { Description = $"CPU threads (0 = physical cores, here {GgufOptimize.Engine.Hardware.PhysicalCores})", DefaultValueFactory = _ => 0 };

        var command = new Command("kld", "Compare a target model or stored logits with the baseline: per-token KL-divergence and statistics")
        {
            baselineLogits, baselineModel, targetModel, targetLogits, dataset, output, json, keep, from, to, clobber, skipFirst,
            early, confidence, margin, minChunks, resamples, context, batch, ubatch, threads,
        };
        CommandRunner.SetAction(command, (parse, ctx, ct) =>
        {
            var result = KldJob.Run(new KldJobOptions
            {
                BaselineLogits = parse.GetValue(baselineLogits),
                BaselineModel = parse.GetValue(baselineModel),
                TargetModel = parse.GetValue(targetModel),
                TargetLogits = parse.GetValue(targetLogits),
                Dataset = parse.GetValue(dataset),
                OutputFile = parse.GetValue(output)!,
                KeepLogits = parse.GetValue(keep),
                FromChunk = parse.GetValue(from),
                ToChunk = parse.GetValue(to),
                Clobber = parse.GetValue(clobber),
                SkipFirst = parse.GetValue(skipFirst),
                EarlyStopping = parse.GetValue(early),
                Confidence = parse.GetValue(confidence),
                MarginOfError = parse.GetValue(margin),
                MinChunks = parse.GetValue(minChunks),
                Resamples = parse.GetValue(resamples),
                ContextSize = parse.GetValue(context),
                BatchSize = parse.GetValue(batch),
                UBatchSize = parse.GetValue(ubatch),
                Threads = parse.GetValue(threads),
            }, ctx.Progress, ct);
            string? jsonPath = parse.GetValue(json);
            string jsonText = KldReport.Json(result).ToJsonString(JsonOutput.Options);
            if (jsonPath == "-") Console.WriteLine(jsonText);
            else
            {
                if (jsonPath is not null) AtomicFile.WriteAllText(jsonPath, jsonText);
                Console.Write(KldReport.Table(result));
            }
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }
}
