using System.CommandLine;
using System.Text.Json;
using GgufOptimize.Cli.Infrastructure;
using GgufOptimize.Common;
using GgufOptimize.Logits;

namespace GgufOptimize.Cli.Commands;

internal static class LogitsCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "Baseline (unquantized) GGUF model", Required = true };
        var dataset = new Option<string>("--dataset", "-d") { Description = "UTF-8 text file to score", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "HDF5 file to write", DefaultValueFactory = _ => "baseline_logits.h5" };
        var context = new Option<int>("--context-size", "-c") { Description = "Tokens per chunk (0 = the model's training context, capped at 4096)", DefaultValueFactory = _ => 0 };
        var batch = new Option<int>("--batch-size", "-b") { Description = "Logical batch size (0 = the context size)", DefaultValueFactory = _ => 0 };
        var ubatch = new Option<int>("--ubatch-size", "-ub") { Description = "Physical batch size (0 = the context size)", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads", "-t") { Description = $"CPU threads (0 = physical cores, here {GgufOptimize.Engine.Hardware.PhysicalCores})", DefaultValueFactory = _ => 0 };
        var precision = new Option<int>("--precision") { Description = "Stored logits precision in bits: 32 or 16", DefaultValueFactory = _ => 32 };
        precision.AcceptOnlyFromAmong("16", "32");
        var compression = new Option<string>("--compression") { Description = "none (contiguous, written at disk speed) or gzip (chunked + deflate, rewritten at the end: slow, saves little on float logits)", DefaultValueFactory = _ => "none" };
        compression.AcceptOnlyFromAmong("none", "gzip");
        var format = new Option<string>("--format") { Description = "full (every logit), compact (top tokens up to 1 - tail mass, tail mass, log P(next)) or llamacpp (llama-perplexity --kl-divergence-base .kld file, its own chunking)", DefaultValueFactory = _ => "full" };
        format.AcceptOnlyFromAmong("full", "compact", "llamacpp");
        var tailMass = new Option<double>("--tail-mass") { Description = "With --format compact: probability at most left in each position's tail bucket (epsilon)", DefaultValueFactory = _ => LogitsJobOptions.DefaultTailMass };
        var from = new Option<int>("--from-chunk") { Description = "First chunk to compute", DefaultValueFactory = _ => 0 };
        var to = new Option<int?>("--to-chunk") { Description = "Stop before this chunk (default: all chunks)" };
        var clobber = new Option<bool>("--clobber") { Description = "Replace an existing output made from another model, dataset or context size" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON on stdout" };

        var command = new Command("logits", "Run the baseline model over a dataset once and store its logits (resumable HDF5)")
        {
            model, dataset, output, context, batch, ubatch, threads, precision, compression, format, tailMass, from, to, clobber, json,
        };
        CommandRunner.SetAction(command, (parse, ctx, ct) =>
        {
            var result = LogitsJob.Run(new LogitsJobOptions
            {
                ModelPath = parse.GetValue(model)!,
                DatasetPath = parse.GetValue(dataset)!,
                OutputPath = parse.GetValue(output)!,
                ContextSize = parse.GetValue(context),
                BatchSize = parse.GetValue(batch),
                UBatchSize = parse.GetValue(ubatch),
                Threads = parse.GetValue(threads),
                Precision = parse.GetValue(precision),
                Compression = parse.GetValue(compression) == "gzip" ? LogitsCompression.Gzip : LogitsCompression.None,
                Format = parse.GetValue(format) switch { "compact" => LogitsFormat.Compact, "llamacpp" => LogitsFormat.LlamaCpp, _ => LogitsFormat.Full },
                TailMass = parse.GetValue(tailMass),
                FromChunk = parse.GetValue(from),
                ToChunk = parse.GetValue(to),
                Clobber = parse.GetValue(clobber),
            }, ctx.Progress, ct);
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(result, JsonOutput.Options));
            else
                Console.WriteLine($"{result.OutputPath}: {result.TotalChunks} chunks × {result.ContextSize} tokens × {result.VocabSize} vocab; " +
                                  $"computed {result.ChunksComputed} chunks ({result.TokensComputed} tokens) in {result.Seconds:F1} s" +
                                  (result.ChunksAlreadyDone > 0 ? $", {result.ChunksAlreadyDone} already stored" : ""));
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }
}
