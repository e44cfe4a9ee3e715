using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using GgufOptimize.Cli.Infrastructure;
using GgufOptimize.Cli.Infrastructure.Options;
using GgufOptimize.Common;
using GgufOptimize.Imatrix;

namespace GgufOptimize.Cli.Commands;

/// <summary>
/// <c>gguf-optimize imatrix</c>: compute an importance matrix from a calibration text (llama-imatrix),
/// merge or convert imatrix files, and <c>imatrix stats</c>.
/// </summary>
internal static class ImatrixCommand
{
    private static readonly JsonSerializerOptions Json = JsonOutput.CamelCase;

    public static Command Create()
    {
        var model = new Option<string?>(OptionVocabulary.Model.Name, OptionVocabulary.Model.Aliases) { Description = "Model to evaluate (with --dataset)" };
        var dataset = new Option<string?>(OptionVocabulary.Dataset.Name, OptionVocabulary.Dataset.Aliases) { Description = "Calibration text file (UTF-8)" };
        var output = SharedOptions.Output("Imatrix file to write", "imatrix.gguf");
        var format = new Option<string>("--output-format") { Description = "gguf (llama.cpp's current format) or dat (legacy)", DefaultValueFactory = _ => "gguf" };
        var inFiles = new Option<string[]>("--in-file") { Description = "Imatrix to start from (repeatable): several are merged (sums and counts add); one alone is converted", DefaultValueFactory = _ => [] };
        var chunks = new Option<int?>("--chunks") { Description = "Chunks to evaluate from --from-chunk on (default: all remaining; or give --to-chunk)" };
        var range = new ChunkRange();
        var shard = new ShardOption();
        var engine = EngineOptions.Imatrix();
        var tuning = new TuningOption();
        var processOutput = new Option<bool>("--process-output") { Description = "Also collect the inputs of output.weight", DefaultValueFactory = _ => false };
        var saveFrequency = new Option<int>("--save-frequency") { Description = "Write a resumable snapshot (<output>.resume) every N chunks; 0 = only on Ctrl-C", DefaultValueFactory = _ => 0 };
        var overwrite = SharedOptions.Overwrite();
        var json = new JsonOption();

        var command = new Command("imatrix", "Compute an importance matrix from a calibration text, or merge/convert imatrix files")
        {
            model, dataset,
        };
        output.AddTo(command);
        foreach (var o in new Option[] { format, inFiles, chunks }) command.Options.Add(o);
        range.AddTo(command);
        command.Options.Add(shard.Option);
        engine.AddTo(command);
        command.Options.Add(tuning.Option);
        foreach (var o in new Option[] { processOutput, saveFrequency }) command.Options.Add(o);
        overwrite.AddTo(command);
        command.Options.Add(json.Option);
        command.Subcommands.Add(CreateStats());
        CommandRunner.SetAction(command, (parseResult, ctx, ct) =>
        {
            var e = engine.Read(parseResult, parseResult.GetValue(model), ctx.Progress);
            (var tuned, e) = tuning.Apply(parseResult, engine, e, parseResult.GetValue(model), ctx.Progress);
            int from = parseResult.GetValue(range.From);
            int? count = parseResult.GetValue(chunks), to = parseResult.GetValue(range.To);
            if (count is not null && to is not null) throw GgufOptimizeException.BadInput("give --chunks or --to-chunk, not both");
            if (to is not null && to <= from) throw GgufOptimizeException.BadInput($"--to-chunk {to} must be greater than --from-chunk {from}");
            var options = new ImatrixOptions
            {
                ModelPath = parseResult.GetValue(model),
                Engine = e.Engine,
                DatasetPath = parseResult.GetValue(dataset),
                OutputPath = output.Get(parseResult)!,
                Format = ImatrixFile.ParseFormat(parseResult.GetValue(format)!),
                InFiles = parseResult.GetValue(inFiles)!,
                Chunks = count ?? (to - from),
                FromChunk = from,
                Shard = shard.Read(parseResult),
                ContextSize = e.ContextSize,
                BatchSize = e.BatchSize,
                UBatchSize = e.UBatchSize,
                Threads = e.Threads,
                Tuning = tuned,
                ProcessOutput = parseResult.GetValue(processOutput),
                SaveFrequency = parseResult.GetValue(saveFrequency),
                Overwrite = overwrite.Get(parseResult),
            };
            var result = ImatrixBuilder.Run(options, ctx.Progress, ct);
            json.Emit(parseResult, () => JsonSerializer.Serialize(result, Json), () => Render(result));
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static Command CreateStats()
    {
        var file = new Argument<string>("imatrix") { Description = "Imatrix file (GGUF or legacy .dat)" };
        var top = new Option<int>("--top") { Description = "Input channels listed per tensor, by mean squared activation", DefaultValueFactory = _ => 5 };
        var chunkSize = new Option<int>("--legacy-chunk-size") { Description = "Chunk size assumed for a legacy .dat file (only affects the row counts shown)", DefaultValueFactory = _ => ImatrixFile.DefaultLegacyChunkSize };
        var json = new JsonOption();
        var command = new Command("stats", "Per tensor: sum, mean and max of the per-channel mean squared activations and the top channels; per layer totals")
        {
            file, top, chunkSize, json.Option,
        };
        CommandRunner.SetAction(command, (parseResult, ctx, ct) =>
        {
            int n = parseResult.GetValue(top);
            if (n < 0) throw GgufOptimizeException.BadInput($"--top must not be negative (got {n})");
            var stats = ImatrixStatistics.Compute(ImatrixFile.Load(parseResult.GetValue(file)!, parseResult.GetValue(chunkSize)), n);
            json.Emit(parseResult, () => JsonSerializer.Serialize(stats, Json), () => RenderStats(stats));
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    internal static string Render(ImatrixResult r)
    {
        var c = CultureInfo.InvariantCulture;
        if (r.Skipped) return $"{r.OutputPath}: exists, skipped (--overwrite computes it again)\n";
        var b = new StringBuilder();
        b.Append(c, $"{r.OutputPath}: {r.Entries} entries, {r.ChunkCount} chunks in total\n");
        if (r.ChunksEvaluated > 0 || r.ChunksResumed > 0)
            b.Append(c, $"  evaluated {r.ChunksEvaluated} chunks ({r.TokensEvaluated:N0} tokens, {r.TokensPerSecond:F0} tokens/s){(r.ChunksResumed > 0 ? $", {r.ChunksResumed} taken over from the snapshot" : "")}\n");
        return b.ToString();
    }

    internal static string RenderStats(ImatrixStatistics s)
    {
        var c = CultureInfo.InvariantCulture;
        var b = new StringBuilder();
        b.Append(c, $"datasets: {(s.Datasets.Count > 0 ? string.Join(", ", s.Datasets) : "(none recorded)")}; {s.ChunkCount} chunks of {s.ChunkSize} tokens\n\n");
        int width = Math.Max(8, s.Tensors.Select(t => t.Name.Length).DefaultIfEmpty(0).Max() + 2);
        b.Append(c, $"{"tensor".PadRight(width)}{"rows",10}{"sum",12}{"mean",12}{"max",12}  top channels (channel:mean x²)\n");
        foreach (var t in s.Tensors)
        {
            string top = string.Join(" ", t.TopChannels.Select(ch => (t.Groups > 1 ? $"e{ch.Expert}/" : "") + ch.Channel.ToString(c) + ":" + ch.MeanSquare.ToString("G3", c)));
            b.Append(c, $"{t.Name.PadRight(width)}{t.Rows,10}{t.Sum,12:G4}{t.Mean,12:G4}{t.Max,12:G4}  {top}\n");
        }
        b.Append(c, $"\n{"layer",-8}{"tensors",8}{"sum",14}{"mean",12}\n");
        foreach (var l in s.Layers)
            b.Append(c, $"{l.Layer,-8}{l.Tensors,8}{l.Sum,14:G5}{l.Mean,12:G4}\n");
        return b.ToString();
    }
}
