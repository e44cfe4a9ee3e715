namespace GgufOptimize.Datasets.Sources;

/// <summary>
/// What JSON-based file sources share: the file glob, the field paths, the language tag and the per-file loop;
/// a subclass only says how one opened file turns into records.
/// </summary>
internal abstract class JsonFileSource : SynchronousSource
{
    private readonly string _kind;
    private readonly string _location;
    private readonly string? _languageTag;

    protected JsonFileSource(string kind, string location, Func<string, bool> isMatch, JsonFieldPath textField, JsonFieldPath? languageField, string? languageTag)
    {
        _kind = kind;
        _location = location;
        _languageTag = languageTag;
        Fields = new JsonRecordFields(textField, languageField, languageTag);
        Files = FileGlob.Expand(location, isMatch);
    }

    private protected JsonRecordFields Fields { get; }
    public IReadOnlyList<string> Files { get; }
    public override long? TotalBytes => Files.Sum(f => new FileInfo(f).Length);
    public override string Description => $"{_kind}{(_languageTag is null ? "" : "@" + _languageTag)}:{_location} ({Fields.Describe})";
    public override bool ProvidesLanguage => Fields.ProvidesLanguage;

    protected override IEnumerable<SourceSample> Read(SourceReadContext context, CancellationToken cancellationToken)
    {
        foreach (var file in Files)
        {
            if (_languageTag is not null && !context.WantsLanguage(_languageTag)) yield break;
            context.Diagnostics.Files++;
            using var stream = TextFileSource.OpenOrThrow(file, f => new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan));
            foreach (var sample in ReadFile(file, stream, context, cancellationToken))
                yield return sample;
        }
    }

    /// <summary>The records of one file, counting bytes, records and problems in <paramref name="context"/>.</summary>
    protected abstract IEnumerable<SourceSample> ReadFile(string file, Stream stream, SourceReadContext context, CancellationToken cancellationToken);
}
