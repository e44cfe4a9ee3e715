using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using GgufOptimize.Cli.Infrastructure;
using GgufOptimize.Cli.Infrastructure.Options;
using GgufOptimize.Common;
using GgufOptimize.Gguf;
using GgufOptimize.Imatrix;
using GgufOptimize.Quantization;

namespace GgufOptimize.Cli.Commands;

/// <summary><c>gguf-optimize quantize</c>: one model to several types with llama.cpp's quantizer, with or without an imatrix.</summary>
internal static class QuantizeCommand
{
    private static readonly JsonSerializerOptions Json = new(JsonOutput.CamelCase)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static Command Create()
    {
        var model = new Option<string>(OptionVocabulary.Model.Name, OptionVocabulary.Model.Aliases) { Description = "The unquantized (F32/F16/BF16) GGUF model", Required = true };
        var types = new Option<string?>("--types") { Description = "Comma-separated llama-quantize types (Q4_0 … Q8_0, Q2_K … Q6_K with _S/_M/_L, IQ1_S … IQ4_XS, TQ1_0, TQ2_0, F16, BF16, F32, COPY), any case" };
        var config = new Option<string?>("--config") { Description = "YAML file with the types as a list under 'quantizations:' (instead of --types) and optional PATTERN=TYPE rules under 'tensor_types:' (as `recipe` writes them)" };
        var outputDir = SharedOptions.Output("Folder for the quantized models", ".", "--output-dir");
        var name = new Option<string?>("--name") { Description = "Output name stem: <name>-<TYPE>[-imat-<tag>].gguf (default: the input file name without a trailing -f32/-f16/-bf16)" };
        var imatrix = new Option<string?>("--imatrix") { Description = "Importance matrix (GGUF or legacy .dat) to weight the quantization error by" };
        var imatrixTag = new Option<string?>("--imatrix-tag") { Description = "Tag in output names when --imatrix is used (default: the imatrix file name without extension)" };
        var include = new Option<string[]>("--include-weights") { Description = "Use the imatrix only for weights whose names contain this (repeatable)", DefaultValueFactory = _ => [] };
        var exclude = new Option<string[]>("--exclude-weights") { Description = "Do not use the imatrix for weights whose names contain this (repeatable)", DefaultValueFactory = _ => [] };
        var outputType = new Option<string?>("--output-tensor-type") { Description = "ggml type for output.weight (e.g. q8_0)" };
        var embeddingType = new Option<string?>("--token-embedding-type") { Description = "ggml type for token_embd.weight" };
        var tensorType = new Option<string[]>("--tensor-type") { Description = "PATTERN=TYPE: tensors matching the regular expression get TYPE (repeatable, first match wins)", DefaultValueFactory = _ => [] };
        var pure = new Option<bool>("--pure") { Description = "No k-quant mixture: every tensor in the type's base type", DefaultValueFactory = _ => false };
        var leaveOutput = new Option<bool>("--leave-output-tensor") { Description = "Leave output.weight unquantized", DefaultValueFactory = _ => false };
        var requantize = new Option<bool>("--allow-requantize") { Description = "Allow quantizing tensors that are already quantized", DefaultValueFactory = _ => false };
        var engine = EngineOptions.ThreadsOnly();
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the plan (tensors per resulting type, size, bits per weight, substitutions) without writing", DefaultValueFactory = _ => false };
        var overwrite = SharedOptions.Overwrite();
        var splitSize = new Option<string?>("--split-max-size") { Description = "Write each output as llama.cpp split shards (name-00001-of-0000N.gguf) of at most this much tensor data, e.g. 2G (K/M/G/T = powers of 1000, as gguf-split)", HelpName = "SIZE" };
        var splitTensors = new Option<int>("--split-max-tensors") { Description = "Write each output as llama.cpp split shards of at most N tensors (as gguf-split)", HelpName = "N" };
        var strict = new Option<bool>("--strict") { Description = "Fail where a row length fits no type llama.cpp would pick, instead of keeping that tensor in the nearest type that fits", DefaultValueFactory = _ => false };
        var legacyChunk = new Option<int>("--legacy-chunk-size") { Description = "Chunk size assumed for a legacy .dat imatrix (it stores none; only affects counts, not values)", DefaultValueFactory = _ => ImatrixFile.DefaultLegacyChunkSize };
        var json = new JsonOption();

        var command = new Command("quantize", "Quantize a model to several types with llama.cpp's quantizer, with or without an importance matrix")
        {
            model, types, config,
        };
        outputDir.AddTo(command);
        foreach (var o in new Option[] { name, imatrix, imatrixTag, include, exclude, outputType, embeddingType, tensorType, pure, leaveOutput, requantize }) command.Options.Add(o);
        engine.AddTo(command);
        command.Options.Add(dryRun);
        overwrite.AddTo(command);
        command.Options.Add(splitSize);
        command.Options.Add(splitTensors);
        foreach (var o in new Option[] { strict, legacyChunk, json.Option }) command.Options.Add(o);
        CommandRunner.SetAction(command, (parseResult, ctx, ct) =>
        {
            string? typeList = parseResult.GetValue(types), configPath = parseResult.GetValue(config);
            if ((typeList is null) == (configPath is null)) throw GgufOptimizeException.BadInput("give the types with exactly one of --types and --config");
            var options = new QuantizeOptions
            {
                ModelPath = parseResult.GetValue(model)!,
                Types = typeList is not null ? QuantizationTypes.ParseList(typeList) : QuantizationTypes.LoadConfig(configPath!),
                OutputDirectory = outputDir.Get(parseResult)!,
                Name = parseResult.GetValue(name),
                ImatrixPath = parseResult.GetValue(imatrix),
                ImatrixTag = parseResult.GetValue(imatrixTag),
                IncludeWeights = parseResult.GetValue(include)!,
                ExcludeWeights = parseResult.GetValue(exclude)!,
                OutputTensorType = parseResult.GetValue(outputType),
                TokenEmbeddingType = parseResult.GetValue(embeddingType),
                // Rules given on the command line come before the config's: the first match wins.
                TensorTypes = parseResult.GetValue(tensorType)!.Select(TensorTypeRule.Parse)
                    .Concat(configPath is null ? [] : QuantizationTypes.LoadConfigTensorTypes(configPath)).ToList(),
                Pure = parseResult.GetValue(pure),
                LeaveOutputTensor = parseResult.GetValue(leaveOutput),
                AllowRequantize = parseResult.GetValue(requantize),
                Threads = engine.Read(parseResult).Threads,
                DryRun = parseResult.GetValue(dryRun),
                Overwrite = overwrite.Get(parseResult),
                SplitMaxBytes = parseResult.GetValue(splitSize) is { } size ? GgufSplits.ParseSize(size, "--split-max-size") : 0,
                SplitMaxTensors = parseResult.GetValue(splitTensors) is var n && n >= 0 ? n
                    : throw GgufOptimizeException.BadInput($"--split-max-tensors must not be negative (got {n})"),
                Strict = parseResult.GetValue(strict),
                LegacyImatrixChunkSize = parseResult.GetValue(legacyChunk),
            };
            var outcomes = ModelQuantizer.Run(options, ctx.Progress, ct);
            json.Emit(parseResult, () => JsonSerializer.Serialize(outcomes.Select(o => ToJson(o, options.DryRun)), Json), () => Render(outcomes, ctx.Verbose));
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    internal static string Render(IReadOnlyList<QuantizeOutcome> outcomes, bool verbose)
    {
        var c = CultureInfo.InvariantCulture;
        var b = new StringBuilder();
        foreach (var o in outcomes)
        {
            var p = o.Plan;
            string status = o.Status switch
            {
                QuantizeStatus.Planned => "plan",
                QuantizeStatus.Skipped => "skipped (exists)",
                _ => $"written in {o.Elapsed.TotalSeconds.ToString("F1", c)} s",
            };
            b.Append(c, $"{p.Type.Name}: {p.OutputPath} — {status}\n");
            b.Append(c, $"  {p.TargetBytes:N0} bytes of tensor data ({p.SourceBytes:N0} before), {p.BitsPerWeight:F2} bits per weight\n");
            b.Append(c, $"  {"type",-8}{"tensors",8}{"parameters",14}{"bytes",14}{"bits/weight",13}\n");
            foreach (var s in p.ByType)
                b.Append(c, $"  {s.Type,-8}{s.Tensors,8}{s.Elements,14:N0}{s.Bytes,14:N0}{s.BitsPerWeight,13:F2}\n");
            foreach (var s in p.OwnSubstitutions)
                b.Append(c, $"  kept {s.Tensor} in {s.UsedType}: {s.Reason}\n");
            var fallbacks = p.Substitutions.Where(s => s.ByLlamaCpp).ToList();
            if (fallbacks.Count > 0)
            {
                if (verbose)
                    foreach (var s in fallbacks) b.Append(c, $"  llama.cpp fallback {s.Tensor}: {s.Reason}\n");
                else
                {
                    string summary = string.Join(", ", fallbacks.GroupBy(s => $"{s.WantedType}->{s.UsedType}").Select(g => $"{g.Key} x{g.Count()}"));
                    b.Append(c, $"  llama.cpp fallbacks (row length): {summary} (--verbose lists them)\n");
                }
            }
        }
        return b.ToString();
    }

    private static object ToJson(QuantizeOutcome o, bool withTensors) => new
    {
        type = o.Plan.Type.Name,
        status = o.Status,
        output = o.OutputPath,
        seconds = o.Status == QuantizeStatus.Written ? o.Elapsed.TotalSeconds : (double?)null,
        fileBytes = o.Status == QuantizeStatus.Planned ? (long?)null : o.FileBytes,
        tensorBytes = o.Plan.TargetBytes,
        sourceTensorBytes = o.Plan.SourceBytes,
        bitsPerWeight = o.Plan.BitsPerWeight,
        byType = o.Plan.ByType,
        substitutions = o.Plan.Substitutions.Select(s => new { s.Tensor, s.WantedType, s.UsedType, s.RowLength, s.BlockSize, s.ByLlamaCpp, s.Reason }),
        tensors = withTensors ? o.Plan.Tensors.Select(t => new { t.Name, t.Dimensions, t.SourceType, t.TargetType, t.SourceBytes, t.TargetBytes }) : null,
    };
}
