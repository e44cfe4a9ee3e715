namespace GgufOptimize.Datasets.Sources;

/// <summary>Local Parquet files; the text (and optionally language) are string columns.</summary>
internal sealed class ParquetSource : IDatasetSource
{
    private readonly string _location;
    private readonly string _textColumn;
    private readonly string? _languageColumn;
    private readonly string? _languageTag;

    public ParquetSource(string location, string textColumn, string? languageColumn = null, string? languageTag = null)
    {
        _location = location;
        _textColumn = textColumn;
        _languageColumn = languageColumn;
        _languageTag = languageTag;
        Files = FileGlob.Expand(location, f => f.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase));
    }

    public IReadOnlyList<string> Files { get; }
    public long? TotalBytes => Files.Sum(f => new FileInfo(f).Length);
    public string Description => $"parquet{(_languageTag is null ? "" : "@" + _languageTag)}:{_location} (text={_textColumn}{(_languageColumn is null ? "" : $", lang={_languageColumn}")})";
    public bool ProvidesLanguage => _languageColumn is not null || _languageTag is not null;

    public async IAsyncEnumerable<SourceSample> ReadAsync(SourceReadContext context, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var file in Files)
        {
            if (_languageTag is not null && !context.WantsLanguage(_languageTag)) yield break;
            context.Diagnostics.Files++;
            await foreach (var sample in ParquetTextReader.ReadAsync(file, _textColumn, _languageColumn, _languageTag, context, cancellationToken))
                yield return sample;
        }
    }
}
