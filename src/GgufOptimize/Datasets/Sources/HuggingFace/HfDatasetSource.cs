using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using GgufOptimize.Common;

namespace GgufOptimize.Datasets.Sources.HuggingFace;

/// <summary>
/// A Hugging Face dataset read through the datasets-server Parquet export: the listing is fetched, then each Parquet
/// file of the chosen config and split is downloaded into the cache only when reading reaches it (a small selection
/// downloads only the first file), and read row group by row group.
/// </summary>
internal sealed partial class HfDatasetSource : IDatasetSource
{
    private readonly string _dataset;
    private readonly HfSettings _settings;
    private readonly string _textColumn;
    private readonly string? _languageColumn;
    private readonly string? _languageTag;

    public HfDatasetSource(string dataset, HfSettings settings, string textColumn, string? languageColumn = null, string? languageTag = null)
    {
        if (!DatasetName().IsMatch(dataset)) throw GgufOptimizeException.BadInput($"'{dataset}' is not a Hugging Face dataset name (owner/name)");
        _dataset = dataset;
        _settings = settings;
        _textColumn = textColumn;
        _languageColumn = languageColumn;
        _languageTag = languageTag;
    }

    private bool ConfigPerLanguage => _settings.Config?.Contains("{lang}") == true;

    public string Description =>
        $"hf{(_languageTag is null ? "" : "@" + _languageTag)}:{_dataset} (config={_settings.Config ?? "(only)"}, split={_settings.Split}, text={_textColumn}" +
        $"{(_languageColumn is null ? "" : $", lang={_languageColumn}")}, endpoint={_settings.Endpoint})";

    public bool ProvidesLanguage => _languageColumn is not null || _languageTag is not null || ConfigPerLanguage;

    public async IAsyncEnumerable<SourceSample> ReadAsync(SourceReadContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var client = new HfClient(_settings);
        var listing = await client.ListParquetFilesAsync(_dataset, cancellationToken);
        foreach (var (language, files) in Resolve(listing, context))
        {
            foreach (var file in files)
            {
                if (language is not null && !context.WantsLanguage(language)) break;
                string path = await EnsureCachedAsync(client, file, cancellationToken);
                context.Diagnostics.Files++;
                await foreach (var sample in ParquetTextReader.ReadAsync(path, _textColumn, _languageColumn, language ?? _languageTag, context, cancellationToken))
                    yield return sample;
            }
        }
    }

    private List<(string? Language, List<HfParquetFile> Files)> Resolve(IReadOnlyList<HfParquetFile> listing, SourceReadContext context)
    {
        var configs = listing.Select(f => f.Config).Distinct().Order(StringComparer.Ordinal).ToList();
        List<HfParquetFile> Pick(string config) => listing.Where(f => f.Config == config && f.Split == _settings.Split)
            .OrderBy(f => f.Filename, StringComparer.Ordinal).ToList();

        if (ConfigPerLanguage)
        {
            if (context.Languages is null) throw GgufOptimizeException.BadInput("--hf-config with {lang} needs --langs");
            var result = new List<(string?, List<HfParquetFile>)>();
            foreach (var language in context.Languages)
            {
                string config = _settings.Config!.Replace("{lang}", language);
                var files = Pick(config);
                if (files.Count == 0) context.Diagnostics.Notes.Add($"{_dataset}: no Parquet files for config '{config}', split '{_settings.Split}'");
                result.Add((language, files));
            }
            return result;
        }
        string chosen = _settings.Config ?? (configs.Count == 1 ? configs[0] : configs.Contains("default") ? "default" :
            throw GgufOptimizeException.BadInput($"dataset '{_dataset}' has several configs ({string.Join(", ", configs)}); choose one with --hf-config"));
        if (!configs.Contains(chosen))
            throw GgufOptimizeException.BadInput($"dataset '{_dataset}' has no config '{chosen}' (configs: {string.Join(", ", configs)})");
        var picked = Pick(chosen);
        if (picked.Count == 0)
        {
            var splits = listing.Where(f => f.Config == chosen).Select(f => f.Split).Distinct();
            throw GgufOptimizeException.BadInput($"dataset '{_dataset}' config '{chosen}' has no split '{_settings.Split}' (splits: {string.Join(", ", splits)})");
        }
        return [(null, picked)];
    }

    private async Task<string> EnsureCachedAsync(HfClient client, HfParquetFile file, CancellationToken cancellationToken)
    {
        string folder = Path.Combine(_settings.CacheDirectory, Safe(client.EndpointAuthority), Safe(_dataset), Safe(file.Config), Safe(file.Split));
        string path = Path.Combine(folder, Safe(file.Filename));
        var info = new FileInfo(path);
        // A cached file is trusted only if it still reads as Parquet: an older version of this tool could cache garbage.
        if (info.Exists && (file.Size == 0 || info.Length == file.Size) && await ParquetTextReader.ProblemWithAsync(path, cancellationToken) is null) return path;
        Directory.CreateDirectory(folder);
        await client.DownloadAsync(file, path, cancellationToken);
        return path;
    }

    /// <summary>One path component from a name the server chose; it can never climb out of the cache folder.</summary>
    private static string Safe(string name)
    {
        string s = UnsafeChars().Replace(name.Replace("/", "__"), "_");
        return s is "" or "." or ".." ? "_" + s : s;
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$")]
    private static partial Regex DatasetName();

    [GeneratedRegex(@"[^A-Za-z0-9_.=-]")]
    private static partial Regex UnsafeChars();
}
