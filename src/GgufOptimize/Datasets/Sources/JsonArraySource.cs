namespace GgufOptimize.Datasets.Sources;

/// <summary>
/// Files holding one JSON array of objects, streamed element by element. A syntax error ends the file (what was
/// read before it is kept) and is counted as malformed.
/// </summary>
public sealed class JsonArraySource : SynchronousSource
{
    private readonly string _location;
    private readonly string? _languageTag;
    private readonly JsonRecordFields _fields;

    public JsonArraySource(string location, JsonFieldPath textField, JsonFieldPath? languageField = null, string? languageTag = null)
    {
        _location = location;
        _languageTag = languageTag;
        _fields = new JsonRecordFields(textField, languageField, languageTag);
        Files = FileGlob.Expand(location, f => f.EndsWith(".json", StringComparison.OrdinalIgnoreCase));
    }

    public IReadOnlyList<string> Files { get; }
    public override long? TotalBytes => Files.Sum(f => new FileInfo(f).Length);
    public override string Description => $"json{(_languageTag is null ? "" : "@" + _languageTag)}:{_location} ({_fields.Describe})";
    public override bool ProvidesLanguage => _fields.ProvidesLanguage;

    protected override IEnumerable<SourceSample> Read(SourceReadContext context, CancellationToken cancellationToken)
    {
        foreach (var file in Files)
        {
            if (_languageTag is not null && !context.WantsLanguage(_languageTag)) yield break;
            context.Diagnostics.Files++;
            using var stream = TextFileSource.OpenOrThrow(file, f => new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan));
            var reader = new JsonArrayElementReader(stream, context.MaxSampleBytes);
            long index = 0, counted = 0;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var kind = reader.Next(out var element);
                context.Diagnostics.BytesRead += reader.BytesRead - counted;
                counted = reader.BytesRead;
                if (kind == JsonArrayElementReader.Kind.End) break;
                if (kind == JsonArrayElementReader.Kind.Malformed)
                {
                    context.Diagnostics.Malformed.Record($"{file}: {reader.Problem} (rest of file skipped)");
                    break;
                }
                index++;
                if (kind == JsonArrayElementReader.Kind.Oversized)
                {
                    context.Diagnostics.Oversized.Record(file, index, "element");
                    continue;
                }
                if (_fields.Extract(element, context, file, index, "element") is not { } sample) continue;
                context.Diagnostics.Records++;
                yield return sample;
            }
        }
    }
}
