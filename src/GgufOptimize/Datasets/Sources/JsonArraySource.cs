namespace GgufOptimize.Datasets.Sources;

/// <summary>
/// Files holding one JSON array of objects, streamed element by element. A syntax error ends the file (what was
/// read before it is kept) and is counted as malformed.
/// </summary>
internal sealed class JsonArraySource(string location, JsonFieldPath textField, JsonFieldPath? languageField = null, string? languageTag = null)
    : JsonFileSource("json", location, f => f.EndsWith(".json", StringComparison.OrdinalIgnoreCase), textField, languageField, languageTag)
{
    protected override IEnumerable<SourceSample> ReadFile(string file, Stream stream, SourceReadContext context, CancellationToken cancellationToken)
    {
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
            if (Fields.Extract(element, context, file, index, "element") is not { } sample) continue;
            context.Diagnostics.Records++;
            yield return sample;
        }
    }
}
