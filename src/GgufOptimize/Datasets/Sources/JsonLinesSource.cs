namespace GgufOptimize.Datasets.Sources;

/// <summary>JSON Lines files: one object per line, the text (and optionally language) at a field path.</summary>
internal sealed class JsonLinesSource(string location, JsonFieldPath textField, JsonFieldPath? languageField = null, string? languageTag = null)
    : JsonFileSource("jsonl", location,
        f => f.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase),
        textField, languageField, languageTag)
{
    protected override IEnumerable<SourceSample> ReadFile(string file, Stream stream, SourceReadContext context, CancellationToken cancellationToken)
    {
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
            if (Fields.Extract(line, context, file, reader.LineNumber) is not { } sample) continue;
            context.Diagnostics.Records++;
            yield return sample;
        }
        context.Diagnostics.BytesRead += reader.BytesRead - counted;
    }
}
