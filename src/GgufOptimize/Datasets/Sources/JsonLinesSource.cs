namespace GgufOptimize.Datasets.Sources;

/// <summary>JSON Lines files: one object per line, the text (and optionally language) at a field path.</summary>
public sealed class JsonLinesSource : SynchronousSource
{
    private readonly string _location;
    private readonly string? _languageTag;
    private readonly JsonRecordFields _fields;

    public JsonLinesSource(string location, JsonFieldPath textField, JsonFieldPath? languageField = null, string? languageTag = null)
    {
        _location = location;
        _languageTag = languageTag;
        _fields = new JsonRecordFields(textField, languageField, languageTag);
        Files = FileGlob.Expand(location, f => f.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase));
    }

    public IReadOnlyList<string> Files { get; }
    public override long? TotalBytes => Files.Sum(f => new FileInfo(f).Length);
    public override string Description => $"jsonl{(_languageTag is null ? "" : "@" + _languageTag)}:{_location} ({_fields.Describe})";
    public override bool ProvidesLanguage => _fields.ProvidesLanguage;

    protected override IEnumerable<SourceSample> Read(SourceReadContext context, CancellationToken cancellationToken)
    {
        foreach (var file in Files)
        {
            if (_languageTag is not null && !context.WantsLanguage(_languageTag)) yield break;
            context.Diagnostics.Files++;
            using var stream = TextFileSource.OpenOrThrow(file, f => new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan));
            var reader = new Utf8LineReader(stream, context.MaxSampleBytes);
            long counted = 0;
            while (reader.ReadLine(out var line, out bool oversized))
            {
                cancellationToken.ThrowIfCancellationRequested();
                context.Diagnostics.BytesRead += reader.BytesRead - counted;
                counted = reader.BytesRead;
                if (oversized)
                {
                    context.Diagnostics.Oversized.Record(file, reader.LineNumber);
                    continue;
                }
                if (Utf8Text.IsBlank(line.Span)) continue;
                if (_fields.Extract(line, context, file, reader.LineNumber) is not { } sample) continue;
                context.Diagnostics.Records++;
                yield return sample;
            }
            context.Diagnostics.BytesRead += reader.BytesRead - counted;
        }
    }
}
