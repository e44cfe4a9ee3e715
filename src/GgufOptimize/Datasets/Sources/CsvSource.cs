using GgufOptimize.Common;

namespace GgufOptimize.Datasets.Sources;

/// <summary>
/// CSV or TSV files with a header row; the text (and optionally language) are named columns. Rows whose field count
/// differs from the header, or with broken quoting, are skipped and counted as malformed.
/// </summary>
internal sealed class CsvSource : SynchronousSource
{
    private readonly string _location;
    private readonly byte _delimiter;
    private readonly string _textColumn;
    private readonly string? _languageColumn;
    private readonly string? _languageTag;

    public CsvSource(string location, char delimiter, string textColumn, string? languageColumn = null, string? languageTag = null)
    {
        if (delimiter > 127 || delimiter is '"' or '\n' or '\r') throw GgufOptimizeException.BadInput($"CSV delimiter '{delimiter}' is not usable");
        _location = location;
        _delimiter = (byte)delimiter;
        _textColumn = textColumn;
        _languageColumn = languageColumn;
        _languageTag = languageTag;
        string[] extensions = delimiter == '\t' ? [".tsv", ".tab"] : [".csv"];
        Files = FileGlob.Expand(location, f => extensions.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase)));
    }

    public IReadOnlyList<string> Files { get; }
    public override long? TotalBytes => Files.Sum(f => new FileInfo(f).Length);
    private string Kind => _delimiter == '\t' ? "tsv" : "csv";
    public override string Description =>
        $"{Kind}{(_languageTag is null ? "" : "@" + _languageTag)}:{_location} (text={_textColumn}{(_languageColumn is null ? "" : $", lang={_languageColumn}")})";
    public override bool ProvidesLanguage => _languageColumn is not null || _languageTag is not null;

    protected override IEnumerable<SourceSample> Read(SourceReadContext context, CancellationToken cancellationToken)
    {
        foreach (var file in Files)
        {
            if (_languageTag is not null && !context.WantsLanguage(_languageTag)) yield break;
            context.Diagnostics.Files++;
            using var stream = TextFileSource.OpenOrThrow(file, f => new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan));
            var reader = new CsvRecordReader(stream, _delimiter, context.MaxSampleBytes);
            var (columns, textIndex, languageIndex) = ReadHeader(reader, file);
            long counted = reader.BytesRead;
            context.Diagnostics.BytesRead += counted;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var kind = reader.Next();
                context.Diagnostics.BytesRead += reader.BytesRead - counted;
                counted = reader.BytesRead;
                if (kind == CsvRecordReader.Kind.End) break;
                if (kind == CsvRecordReader.Kind.Oversized) { context.Diagnostics.Oversized.Record(file, reader.RecordLine); continue; }
                if (kind == CsvRecordReader.Kind.Malformed || reader.FieldCount != columns)
                {
                    context.Diagnostics.Malformed.Record(file, reader.RecordLine);
                    continue;
                }
                string? language = _languageTag;
                if (languageIndex >= 0)
                {
                    language = Utf8Text.Decode(reader.Field(languageIndex), InvalidUtf8Policy.Replace, out _)!.Trim();
                    if (language.Length == 0) { context.Diagnostics.MissingField.Record(file, reader.RecordLine); continue; }
                }
                string? text = Utf8Text.Decode(reader.Field(textIndex), context.InvalidUtf8, out bool invalid);
                if (!Utf8Text.Check(text, invalid, context, file, reader.RecordLine)) continue;
                context.Diagnostics.Records++;
                yield return new SourceSample(text!, language);
            }
        }
    }

    private (int Columns, int Text, int Language) ReadHeader(CsvRecordReader reader, string file)
    {
        if (reader.Next() != CsvRecordReader.Kind.Record) throw GgufOptimizeException.BadInput($"{Kind} file '{file}' has no readable header row");
        var names = Enumerable.Range(0, reader.FieldCount)
            .Select(i => Utf8Text.Decode(reader.Field(i), InvalidUtf8Policy.Replace, out _)!.Trim()).ToList();
        int Find(string column, string option)
        {
            int index = names.FindIndex(n => n == column);
            if (index < 0) index = names.FindIndex(n => string.Equals(n, column, StringComparison.OrdinalIgnoreCase));
            if (index < 0) throw GgufOptimizeException.BadInput($"{Kind} file '{file}' has no column '{column}' ({option}); its columns are: {string.Join(", ", names)}");
            return index;
        }
        return (names.Count, Find(_textColumn, "--text-field"), _languageColumn is null ? -1 : Find(_languageColumn, "--lang-field"));
    }
}
