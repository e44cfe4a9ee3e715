using System.CommandLine;
using System.Text.Json;
using GgufOptimize.Cli.Infrastructure;
using GgufOptimize.Cli.Infrastructure.Options;
using GgufOptimize.Common;
using GgufOptimize.Logits;
using GgufOptimize.Storage.Formats;

namespace GgufOptimize.Cli.Commands;

internal static class LogitsCommand
{
    public static Command Create()
    {
        var model = new Option<string>(OptionVocabulary.Model.Name, OptionVocabulary.Model.Aliases) { Description = "Baseline (unquantized) GGUF model (required unless --info)" };
        var dataset = new Option<string>(OptionVocabulary.Dataset.Name, OptionVocabulary.Dataset.Aliases) { Description = "UTF-8 text file to score (required unless --info)" };
        var output = SharedOptions.Output("HDF5 file to write (or .kld with --format llamacpp)", "baseline_logits.h5");
        var engine = EngineOptions.Evaluation();
        var tuning = new TuningOption();
        var precision = new Option<int>("--precision") { Description = "Stored logits precision in bits, 32 or 16 (full rows only: giving it without --format means --format full)", DefaultValueFactory = _ => 32 };
        precision.AcceptOnlyFromAmong("16", "32");
        var compression = new Option<string>("--compression") { Description = "Full rows only (giving it without --format means --format full): none (contiguous, written at disk speed), gzip (chunked + deflate, rewritten at the end: slow, saves little on float logits) or lzf (h5py's LZF filter: faster than gzip, saves less)", DefaultValueFactory = _ => "none" };
        compression.AcceptOnlyFromAmong("none", "gzip", "lzf");
        var format = new Option<string>("--format") { Description = "compact (compact-4: top tokens up to 1 - tail mass with quantized probabilities, finer for flat chunks, and a recorded error bound; about 2 % of a llama.cpp .kld on peaked 128k-vocabulary models), full (every logit; what llama-gguf-optimize reads), compact-1 (top tokens with exact float32 logits) or llamacpp (llama-perplexity --kl-divergence-base .kld file, its own chunking). Default: the format of an existing output or its .partial (it resumes), else llamacpp for an output named *.kld, else full when --precision or --compression is given, else compact" };
        format.AcceptOnlyFromAmong([.. FormatNames.Keys]);
        var tailMass = new Option<double?>("--tail-mass") { Description = $"With --format compact or compact-1: probability at most left in each position's tail bucket (epsilon; default {GgufOptimize.Storage.Formats.Compact.QuantizedRowSettings.Default.TailMass.ToString(System.Globalization.CultureInfo.InvariantCulture)} for compact, {LogitsJobOptions.DefaultTailMass.ToString(System.Globalization.CultureInfo.InvariantCulture)} for compact-1)" };
        var info = new Option<string>("--info") { Description = "Print what a stored logits file holds (format, error bound, vocabulary, positions, size, bytes per position) and exit; no model is run" };
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
        command.Options.Add(info);
        command.Options.Add(json.Option);
        CommandRunner.SetAction(command, (parse, ctx, ct) =>
        {
            if (parse.GetValue(info) is { } infoPath)
            {
                var described = StoredLogitsInfo.Of(infoPath);
                json.Emit(parse, () => JsonSerializer.Serialize(described, JsonOutput.CamelCase), () => DescribeInfo(described));
                return Task.FromResult(ExitCodes.Success);
            }
            if (parse.GetValue(model) is null) throw GgufOptimizeException.BadInput($"logits needs {OptionVocabulary.Model.Name} (the baseline model) unless --info FILE is given");
            if (parse.GetValue(dataset) is null) throw GgufOptimizeException.BadInput($"logits needs {OptionVocabulary.Dataset.Name} (the text to score) unless --info FILE is given");
            var e = engine.Read(parse, parse.GetValue(model), ctx.Progress);
            (var tuned, e) = tuning.Apply(parse, engine, e, parse.GetValue(model), ctx.Progress);
            var chosen = LogitsFormatChoice.Resolve(parse.GetValue(format) is { } named ? FormatNames[named] : null, output.Get(parse)!, parse.IsGiven(precision) || parse.IsGiven(compression), out var continued);
            if (continued is not null) ctx.Progress.Info($"'{continued}' exists: continuing it in its own format ({FormatName(chosen)}); give --format to choose");
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
                Format = chosen,
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

    /// <summary>--format's words for the formats.</summary>
    private static readonly Dictionary<string, LogitsFormat> FormatNames = new()
    {
        ["compact"] = LogitsFormat.QuantizedCompact,
        ["full"] = LogitsFormat.Full,
        ["compact-1"] = LogitsFormat.Compact,
        ["llamacpp"] = LogitsFormat.LlamaCpp,
    };

    private static string FormatName(LogitsFormat f) => FormatNames.First(n => n.Value == f).Key;

    private static string DescribeInfo(StoredLogitsInfo i) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{i.Path}\n  format: {i.Format}\n  accuracy: {i.Accuracy}\n  n_vocab {i.VocabSize}, n_ctx {i.ContextSize}, chunks {i.StoredChunks} of {i.TotalChunks}, " +
        $"{i.StoredPositions} stored positions\n  size: {i.Bytes} bytes, {i.BytesPerPosition:F0} bytes per stored position " +
        $"({(i.VocabSize > 0 ? i.BytesPerPosition / (2.0 * (2 * ((i.VocabSize + 1) / 2) + 4)) * 100 : 0):F2} % of a llama.cpp .kld row, {i.BytesPerPosition / (4.0 * i.VocabSize) * 100:F2} % of float32)\n");
}
