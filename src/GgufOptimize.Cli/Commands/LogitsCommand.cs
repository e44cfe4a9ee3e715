using System.CommandLine;
using System.Text.Json;
using GgufOptimize.Cli.Infrastructure;
using GgufOptimize.Cli.Infrastructure.Options;
using GgufOptimize.Common;
using GgufOptimize.Logits;

namespace GgufOptimize.Cli.Commands;

internal static class LogitsCommand
{
    public static Command Create()
    {
        var model = new Option<string>(OptionVocabulary.Model.Name, OptionVocabulary.Model.Aliases) { Description = "Baseline (unquantized) GGUF model", Required = true };
        var dataset = new Option<string>(OptionVocabulary.Dataset.Name, OptionVocabulary.Dataset.Aliases) { Description = "UTF-8 text file to score", Required = true };
        var output = SharedOptions.Output("HDF5 file to write (or .kld with --format llamacpp)", "baseline_logits.h5");
        var engine = EngineOptions.Evaluation();
        var tuning = new TuningOption();
        var precision = new Option<int>("--precision") { Description = "Stored logits precision in bits: 32 or 16", DefaultValueFactory = _ => 32 };
        precision.AcceptOnlyFromAmong("16", "32");
        var compression = new Option<string>("--compression") { Description = "none (contiguous, written at disk speed), gzip (chunked + deflate, rewritten at the end: slow, saves little on float logits) or lzf (h5py's LZF filter: faster than gzip, saves less)", DefaultValueFactory = _ => "none" };
        compression.AcceptOnlyFromAmong("none", "gzip", "lzf");
        var format = new Option<string>("--format") { Description = "full (every logit), compact (top tokens up to 1 - tail mass, tail mass, log P(next)) or llamacpp (llama-perplexity --kl-divergence-base .kld file, its own chunking)", DefaultValueFactory = _ => "full" };
        format.AcceptOnlyFromAmong("full", "compact", "llamacpp");
        var tailMass = new Option<double>("--tail-mass") { Description = "With --format compact: probability at most left in each position's tail bucket (epsilon)", DefaultValueFactory = _ => LogitsJobOptions.DefaultTailMass };
        var range = new ChunkRange();
        var shard = new ShardOption();
        var overwrite = SharedOptions.Overwrite();
        var json = new JsonOption();

        var command = new Command("logits", "Run the baseline model over a dataset once and store its logits (resumable HDF5)") { model, dataset };
        output.AddTo(command);
        engine.AddTo(command);
        command.Options.Add(tuning.Option);
        foreach (var o in new Option[] { precision, compression, format, tailMass }) command.Options.Add(o);
        range.AddTo(command);
        command.Options.Add(shard.Option);
        overwrite.AddTo(command);
        command.Options.Add(json.Option);
        CommandRunner.SetAction(command, (parse, ctx, ct) =>
        {
            var e = engine.Read(parse, parse.GetValue(model), ctx.Progress);
            (var tuned, e) = tuning.Apply(parse, engine, e, parse.GetValue(model), ctx.Progress);
            var result = LogitsJob.Run(new LogitsJobOptions
            {
                ModelPath = parse.GetValue(model)!,
                DatasetPath = parse.GetValue(dataset)!,
                OutputPath = output.Get(parse)!,
                ContextSize = e.ContextSize,
                BatchSize = e.BatchSize,
                UBatchSize = e.UBatchSize,
                Threads = e.Threads,
                Engine = e.Engine,
                Tuning = tuned,
                Precision = parse.GetValue(precision),
                Compression = parse.GetValue(compression) switch { "gzip" => LogitsCompression.Gzip, "lzf" => LogitsCompression.Lzf, _ => LogitsCompression.None },
                Format = parse.GetValue(format) switch { "compact" => LogitsFormat.Compact, "llamacpp" => LogitsFormat.LlamaCpp, _ => LogitsFormat.Full },
                TailMass = parse.GetValue(tailMass),
                FromChunk = parse.GetValue(range.From),
                ToChunk = parse.GetValue(range.To),
                Shard = shard.Read(parse),
                Clobber = overwrite.Get(parse),
            }, ctx.Progress, ct);
            json.Emit(parse, () => JsonSerializer.Serialize(result, JsonOutput.Options),
                () => $"{result.OutputPath}: {result.TotalChunks} chunks × {result.ContextSize} tokens × {result.VocabSize} vocab; " +
                      $"computed {result.ChunksComputed} chunks ({result.TokensComputed} tokens) in {result.Seconds:F1} s" +
                      (result.ChunksAlreadyDone > 0 ? $", {result.ChunksAlreadyDone} already stored" : "") + "\n");
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }
}
