using System.CommandLine;
using System.Globalization;
using System.Text;
using GgufOptimize.Cli.Infrastructure;
using GgufOptimize.Cli.Infrastructure.Options;
using GgufOptimize.Common;
using GgufOptimize.Datasets;
using GgufOptimize.Datasets.Output;
using GgufOptimize.Datasets.Selection;
using GgufOptimize.Datasets.Sources;
using GgufOptimize.Datasets.Sources.HuggingFace;

namespace GgufOptimize.Cli.Commands;

/// <summary>
/// <c>gguf-optimize dataset --source ... --langs en,es --num-samples 2000 --output calib.txt</c>: calibration and
/// evaluation text from local files or a Hugging Face dataset, balanced per language, optionally as nested subsets.
/// </summary>
internal static class DatasetCommand
{
    private const long DefaultSamples = 200;

    public static Command Create()
    {
        var source = new Option<string[]>("--source", "-s")
        {
            Description = "Where samples come from, repeatable: kind[@lang]:location with kind text|jsonl|json|csv|tsv|parquet|hf " +
                          "(location: file, folder or glob like corpus/*.jsonl; for hf a dataset name); a bare path picks the kind from its extension",
            AllowMultipleArgumentsPerToken = false,
        };
        var textField = new Option<string>("--text-field") { Description = "JSON field path (a.b.0.c), CSV or Parquet column holding the text", DefaultValueFactory = _ => "text" };
        var langField = new Option<string?>("--lang-field") { Description = "JSON field path or column holding the language (or tag sources: jsonl@en:...)" };
        var split = ChoiceOption.Create("--split", "How text files become samples", TextSplit.Paragraph);
        var langs = new Option<string?>("--langs") { Description = "Comma-separated languages to keep and balance (default: every sample, one group)" };
        var weights = new Option<string?>("--weights") { Description = "Relative language weights, e.g. en=2,es=1 (unnamed languages weigh 1; default equal shares)" };
        var numSamples = new Option<long?>("--num-samples", "-n") { Description = $"Samples per language at equal weight (default {DefaultSamples} unless --num-tokens or --subsets)" };
        var numTokens = new Option<long?>("--num-tokens") { Description = "Total tokens instead of samples, split by the weights; needs --model" };
        var model = new Option<string?>(OptionVocabulary.Model.Name, OptionVocabulary.Model.Aliases) { Description = "GGUF model whose tokenizer counts tokens (for --num-tokens; otherwise adds token counts to the manifest)" };
        var skip = new Option<long>("--skip-samples") { Description = "Leave out this many samples per language (at equal weight) first, to extend an earlier dataset", DefaultValueFactory = _ => 0 };
        var minChars = new Option<int>("--min-chars") { Description = "Drop samples shorter than this many characters", DefaultValueFactory = _ => 1 };
        var maxChars = new Option<int?>("--max-chars") { Description = "Drop samples longer than this many characters (default: no limit)" };
        var noDedup = new Option<bool>("--no-dedup") { Description = "Keep exact duplicates (by default a repeated text within a language is dropped)" };
        var shuffle = new Option<bool>("--shuffle") { Description = "Order samples within each language by a seeded hash of their text instead of source order (reads every source to the end)" };
        var seed = new Option<long>("--seed") { Description = "Seed for --shuffle", DefaultValueFactory = _ => 0 };
        var subsets = new Option<string?>("--subsets") { Description = "Comma-separated nested subset sizes (unit of --num-samples or --num-tokens), written as subset-SIZE files; needs --output-dir" };
        var output = SharedOptions.Output("Dataset file to write (its manifest: FILE.manifest.json beside it)", null);
        var outputDir = new Option<string?>("--output-dir") { Description = "Folder for nested subsets and manifest.json" };
        var format = ChoiceOption.Create("--format", "text: samples separated by blank lines; jsonl: {\"text\",\"lang\"} per line", DatasetFormat.Text);
        var overwrite = SharedOptions.Overwrite();
        var append = new Option<bool>("--append") { Description = "Extend an existing output made by the same selection (checked against its manifest)" };
        var countOnly = new Option<bool>("--count-only") { Description = "Read the sources and print what is available per language; write nothing" };
        var invalidUtf8 = ChoiceOption.Create("--invalid-utf8", "Records with invalid UTF-8: replace bad bytes with U+FFFD or skip the record (counted either way)", InvalidUtf8Policy.Replace);
        var maxSampleBytes = new Option<int>("--max-sample-bytes") { Description = "Records longer than this are skipped (bounds memory per sample)", DefaultValueFactory = _ => SourceReadContext.DefaultMaxSampleBytes };
        var hfEndpoint = new Option<string>("--hf-endpoint") { Description = "Hugging Face datasets-server API (token from HF_TOKEN)", DefaultValueFactory = _ => HfSettings.DefaultEndpoint };
        var hfConfig = new Option<string?>("--hf-config") { Description = "Dataset config; {lang} in it makes one config per language (e.g. unshuffled_deduplicated_{lang})" };
        var hfSplit = new Option<string>("--hf-split") { Description = "Dataset split", DefaultValueFactory = _ => "train" };
        var cacheDir = new Option<string>("--cache-dir") { Description = "Where downloaded Parquet files are kept", DefaultValueFactory = _ => HfSettings.DefaultCacheDirectory() };
        var hfRetries = new Option<int>("--hf-retries") { Description = "Attempts per HTTP request (network errors, 5xx, truncated downloads), with exponential backoff", DefaultValueFactory = _ => 4 };
        var json = new JsonOption();
        var plugin = new Option<string?>("--plugin") { Description = "A .NET assembly with a public class implementing IDatasetSource, used as one more source (see examples/DatasetPlugin)" };
        var pluginClass = new Option<string?>("--plugin-class") { Description = "The class to use when the --plugin assembly has several sources (full or short name)" };
        var pluginArg = new Option<string?>("--plugin-arg") { Description = "String passed to the plugin class's constructor (e.g. a file, folder or URL)" };
        var config = new Option<string?>("--config") { Description = "YAML file with languages:, weights:, sources:, text_field:, lang_field: (command-line options win)" };
        var rawSamples = new Option<string?>("--write-raw-samples") { Description = "Also write every selected sample as JSONL {\"text\",\"lang\"} to this file, in the dataset's order" };
        var chunkSize = new Option<int?>("--chunk-size") { Description = "Order samples so every stretch of this many tokens holds the languages in their shares (needs --model; default: balanced by sample count)" };

        var command = new Command("dataset", "Build calibration/evaluation text from files or a Hugging Face dataset: per-language shares, nested subsets, manifest")
        {
            source, textField, langField, split, langs, weights, numSamples, numTokens, model, skip, minChars, maxChars, noDedup, shuffle, seed,
            subsets,
        };
        output.AddTo(command);
        command.Options.Add(outputDir);
        command.Options.Add(format);
        overwrite.AddTo(command);
        var engine = EngineOptions.ModelOnly();
        engine.AddTo(command);
        foreach (var o in new Option[] { append, countOnly, invalidUtf8, maxSampleBytes, hfEndpoint, hfConfig, hfSplit, cacheDir, hfRetries, json.Option,
                     plugin, pluginClass, pluginArg, config, rawSamples, chunkSize }) command.Options.Add(o);
        CommandRunner.SetAction(command, async (parse, ctx, ct) =>
        {
            var file = parse.GetValue(config) is { } configPath ? DatasetConfig.Load(configPath) : new DatasetConfig();
            var settings = new SourceSettings
            {
                TextField = parse.IsGiven(textField) ? parse.GetValue(textField)! : file.TextField ?? parse.GetValue(textField)!,
                LanguageField = parse.GetValue(langField) ?? file.LanguageField,
                Split = ChoiceOption.Get<TextSplit>(parse, split),
                HuggingFace = new HfSettings
                {
                    Endpoint = parse.GetValue(hfEndpoint)!,
                    Config = parse.GetValue(hfConfig),
                    Split = parse.GetValue(hfSplit)!,
                    CacheDirectory = parse.GetValue(cacheDir)!,
                    MaxAttempts = parse.GetValue(hfRetries),
                },
            };
            var specs = parse.GetValue(source) is { Length: > 0 } given ? given : file.Sources;
            var sources = specs.Select(s => DatasetSourceKinds.Create(s, settings)).ToList();
            if (parse.GetValue(plugin) is { } pluginPath) sources.Add(DatasetPlugin.Load(pluginPath, parse.GetValue(pluginClass), parse.GetValue(pluginArg)));
            else if (parse.GetValue(pluginClass) is not null || parse.GetValue(pluginArg) is not null)
                throw GgufOptimizeException.BadInput("--plugin-class and --plugin-arg go with --plugin");
            if (sources.Count == 0) throw GgufOptimizeException.BadInput("give at least one --source (or sources: in --config, or --plugin)");
            var sizes = ParseSizes(parse.GetValue(subsets));
            long? samples = parse.GetValue(numSamples);
            long? tokens = parse.GetValue(numTokens);
            if (samples is null && tokens is null && sizes is null) samples = DefaultSamples;
            string? modelPath = parse.GetValue(model);
            using var tokenizer = modelPath is null ? null : LlamaTokenCounter.Open(modelPath, engine.Read(parse).Engine);
            var languages = ParseList(parse.GetValue(langs), "--langs") ?? file.Languages;
            var request = new DatasetRequest
            {
                Sources = sources,
                Languages = languages,
                Weights = ParseWeights(parse.GetValue(weights)) ?? FileWeights(file, languages),
                NumSamples = samples,
                NumTokens = tokens,
                Subsets = sizes,
                SkipSamples = parse.GetValue(skip),
                MinChars = parse.GetValue(minChars),
                MaxChars = parse.GetValue(maxChars),
                Deduplicate = !parse.GetValue(noDedup),
                Shuffle = parse.GetValue(shuffle),
                Seed = parse.GetValue(seed),
                Tokenizer = tokenizer,
                InvalidUtf8 = ChoiceOption.Get<InvalidUtf8Policy>(parse, invalidUtf8),
                MaxSampleBytes = parse.GetValue(maxSampleBytes),
                ChunkSize = parse.GetValue(chunkSize),
            };
            if (parse.GetValue(countOnly))
            {
                var report = await DatasetBuilder.CountAsync(request, ctx.Progress, ct);
                foreach (var warning in report.Warnings) ctx.Progress.Warn(warning);
                json.Emit(parse, report.ToJson, () => RenderAvailability(report));
                return ExitCodes.Success;
            }
            bool replace = overwrite.Get(parse);
            if (replace && parse.GetValue(append)) throw GgufOptimizeException.BadInput("give --overwrite or --append, not both");
            var existing = replace ? ExistingOutputMode.Overwrite : parse.GetValue(append) ? ExistingOutputMode.Append : ExistingOutputMode.Refuse;
            var target = new DatasetOutput
            {
                File = output.Get(parse), Directory = parse.GetValue(outputDir), Format = ChoiceOption.Get<DatasetFormat>(parse, format), Existing = existing,
                RawSamples = parse.GetValue(rawSamples),
            };
            if (target.File is null && target.Directory is null) throw GgufOptimizeException.BadInput("give --output FILE or --output-dir FOLDER (or --count-only)");
            var manifest = await DatasetBuilder.BuildAsync(request, target, ctx.Progress, ct);
            json.Emit(parse, manifest.ToJson, () => RenderManifest(manifest, target));
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The config file's weights, for the languages in use: --langs on the command line may leave some of the file's out.</summary>
    private static Dictionary<string, double>? FileWeights(DatasetConfig file, IReadOnlyList<string>? languages) =>
        file.Weights?.Where(w => languages is null || languages.Contains(w.Key, StringComparer.OrdinalIgnoreCase))
            .ToDictionary(w => w.Key, w => w.Value, StringComparer.OrdinalIgnoreCase);

    private static List<string>? ParseList(string? text, string option)
    {
        if (text is null) return null;
        var items = text.Split(',', StringSplitOptions.TrimEntries);
        if (items.Any(i => i.Length == 0)) throw GgufOptimizeException.BadInput($"{option} '{text}' has an empty entry");
        return [.. items];
    }

    private static List<long>? ParseSizes(string? text) => ParseList(text, "--subsets")?.Select(s =>
        long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long v) && v > 0 ? v
            : throw GgufOptimizeException.BadInput($"--subsets entry '{s}' is not a positive whole number")).ToList();

    private static Dictionary<string, double>? ParseWeights(string? text) => ParseList(text, "--weights")?.Select(item =>
    {
        var parts = item.Split('=', 2, StringSplitOptions.TrimEntries);
        if (parts.Length != 2 || parts[0].Length == 0 || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double w))
            throw GgufOptimizeException.BadInput($"--weights entry '{item}' is not LANG=NUMBER");
        return (parts[0], w);
    }).ToDictionary(x => x.Item1, x => x.w, StringComparer.OrdinalIgnoreCase);

    internal static string RenderManifest(DatasetManifest m, DatasetOutput target)
    {
        var c = CultureInfo.InvariantCulture;
        var b = new StringBuilder();
        var languages = m.Languages.Select(l => l.Language).ToList();
        bool tokens = m.Subsets.Any(s => s.Tokens is not null);
        string folder = target.Directory ?? Path.GetDirectoryName(target.File) ?? "";
        b.Append(c, $"{"size",10} {"samples",9} {"chars",12}{(tokens ? $" {"tokens",10}" : "")}  {string.Join(" ", languages.Select(l => $"{l,8}"))}  file\n");
        foreach (var s in m.Subsets)
            b.Append(c, $"{s.Size,10} {s.Samples,9} {s.Chars,12}{(tokens ? $" {s.Tokens,10}" : "")}  " +
                        $"{string.Join(" ", languages.Select(l => $"{s.Languages[l].Samples,8}"))}  {Path.Combine(folder, s.File)}\n");
        b.Append(c, $"manifest: {target.ManifestPath}\n");
        return b.ToString();
    }

    internal static string RenderAvailability(AvailabilityReport r)
    {
        var c = CultureInfo.InvariantCulture;
        var b = new StringBuilder();
        bool tokens = r.Languages.Any(l => l.Tokens is not null);
        b.Append(c, $"{"language",-10} {"samples",10} {"duplicates",10} {"chars",12}{(tokens ? $" {"tokens",10}" : "")} {"too short",9} {"too long",8}  requested\n");
        foreach (var l in r.Languages)
            b.Append(c, $"{l.Language,-10} {l.Samples,10} {l.Duplicates,10} {l.Chars,12}{(tokens ? $" {l.Tokens,10}" : "")} {l.TooShort,9} {l.TooLong,8}  " +
                        $"{l.Requested} {r.Unit}{(l.SkipSamples > 0 ? $" after skipping {l.SkipSamples}" : "")}: {(l.Enough ? "available" : "NOT available")}\n");
        foreach (var s in r.Sources)
            b.Append(c, $"source {s.Description}: {s.Files} files, {s.Records} records, {s.Bytes} bytes" +
                        $"{(s.OtherLanguages > 0 ? $", {s.OtherLanguages} in other languages" : "")}\n");
        return b.ToString();
    }
}
