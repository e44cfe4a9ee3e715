using GgufOptimize.Common;

namespace GgufOptimize.Datasets.Sources;

/// <summary>Plain UTF-8 text files or folders, one sample per paragraph, line or file. Language only from a tag.</summary>
internal sealed class TextFileSource : SynchronousSource
{
    private readonly string _location;
    private readonly TextSplit _split;
    private readonly string? _language;

    public TextFileSource(string location, TextSplit split = TextSplit.Paragraph, string? language = null)
    {
        _location = location;
        _split = split;
        _language = language;
        Files = FileGlob.Expand(location);
    }

    public IReadOnlyList<string> Files { get; }
    public override long? TotalBytes => Files.Sum(f => new FileInfo(f).Length);
    public override string Description => $"text{(_language is null ? "" : "@" + _language)}:{_location} (split={_split.ToString().ToLowerInvariant()})";
    public override bool ProvidesLanguage => _language is not null;

    protected override IEnumerable<SourceSample> Read(SourceReadContext context, CancellationToken cancellationToken)
    {
        foreach (var file in Files)
        {
            if (_language is not null && !context.WantsLanguage(_language)) yield break;
            context.Diagnostics.Files++;
            var samples = _split == TextSplit.File ? ReadWholeFile(file, context) : ReadLines(file, context, cancellationToken);
            foreach (var text in samples)
            {
                context.Diagnostics.Records++;
                yield return new SourceSample(text, _language);
            }
        }
    }

    private static IEnumerable<string> ReadWholeFile(string file, SourceReadContext context)
    {
        var info = new FileInfo(file);
        context.Diagnostics.BytesRead += info.Length;
        if (info.Length > context.MaxSampleBytes)
        {
            context.Diagnostics.Oversized.Record(file, 1);
            yield break;
        }
        byte[] bytes = OpenOrThrow(file, File.ReadAllBytes);
        var span = bytes.AsSpan();
        if (span.StartsWith("\uFEFF"u8)) span = span[3..];
        string? text = Utf8Text.Decode(span, context.InvalidUtf8, out bool invalid);
        if (Utf8Text.Check(text, invalid, context, file, 1) && !Utf8Text.IsBlank(span)) yield return text!;
    }

    private IEnumerable<string> ReadLines(string file, SourceReadContext context, CancellationToken cancellationToken)
    {
        using var stream = OpenOrThrow(file, f => new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan));
        var reader = new Utf8LineReader(stream, context.MaxSampleBytes);
        var paragraph = new ParagraphBuffer(context.MaxSampleBytes);
        long counted = 0;
        while (reader.ReadLine(out var line, out bool oversized))
        {
            cancellationToken.ThrowIfCancellationRequested();
            context.Diagnostics.BytesRead += reader.BytesRead - counted;
            counted = reader.BytesRead;
            if (_split == TextSplit.Line)
            {
                if (oversized) { context.Diagnostics.Oversized.Record(file, reader.LineNumber); continue; }
                if (Utf8Text.IsBlank(line.Span)) continue;
                string? text = Utf8Text.Decode(line.Span, context.InvalidUtf8, out bool invalid);
                if (Utf8Text.Check(text, invalid, context, file, reader.LineNumber)) yield return text!;
                continue;
            }
            if (!oversized && Utf8Text.IsBlank(line.Span))
            {
                if (paragraph.TakeText(context, file) is { } done) yield return done;
                continue;
            }
            paragraph.Add(line.Span, oversized, reader.LineNumber);
        }
        context.Diagnostics.BytesRead += reader.BytesRead - counted;
        if (paragraph.TakeText(context, file) is { } last) yield return last;
    }

    internal static T OpenOrThrow<T>(string file, Func<string, T> open)
    {
        try
        {
            return open(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw GgufOptimizeException.BadInput($"cannot read source file '{file}': {e.Message}");
        }
    }

    /// <summary>Collects one paragraph's bytes; beyond the limit it only remembers that the paragraph is oversized.</summary>
    private sealed class ParagraphBuffer(int limit)
    {
        private byte[] _bytes = new byte[4096];
        private int _length;
        private bool _oversized;
        private long _firstLine;

        public void Add(ReadOnlySpan<byte> line, bool oversized, long lineNumber)
        {
            if (_firstLine == 0) _firstLine = lineNumber;
            if (_oversized) return;
            int needed = _length + (_length > 0 ? 1 : 0) + line.Length;
            if (oversized || needed > limit)
            {
                _oversized = true;
                _length = 0;
                return;
            }
            if (needed > _bytes.Length) Array.Resize(ref _bytes, Math.Min(Math.Max(needed, _bytes.Length * 2), limit));
            if (_length > 0) _bytes[_length++] = (byte)'\n';
            line.CopyTo(_bytes.AsSpan(_length));
            _length += line.Length;
        }

        public string? TakeText(SourceReadContext context, string file)
        {
            if (_firstLine == 0) return null;
            long first = _firstLine;
            bool oversized = _oversized;
            int length = _length;
            _firstLine = 0;
            _length = 0;
            _oversized = false;
            if (oversized)
            {
                context.Diagnostics.Oversized.Record(file, first);
                return null;
            }
            string? text = Utf8Text.Decode(_bytes.AsSpan(0, length), context.InvalidUtf8, out bool invalid);
            return Utf8Text.Check(text, invalid, context, file, first) ? text : null;
        }
    }
}
