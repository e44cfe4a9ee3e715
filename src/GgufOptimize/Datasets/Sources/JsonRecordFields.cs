using System.Text;
using System.Text.Json;

namespace GgufOptimize.Datasets.Sources;

/// <summary>Pulls the text and language out of one JSON record (a JSONL line or a JSON array element).</summary>
internal sealed class JsonRecordFields(JsonFieldPath textField, JsonFieldPath? languageField, string? languageTag)
{
    public string Describe => $"text={textField}{(languageField is null ? "" : $", lang={languageField}")}";
    public bool ProvidesLanguage => languageField is not null || languageTag is not null;

    /// <summary>Parses and extracts; counts whatever makes the record unusable and returns null for it.</summary>
    public SourceSample? Extract(ReadOnlyMemory<byte> utf8, SourceReadContext context, string file, long position, string unit = "")
    {
        if (!System.Text.Unicode.Utf8.IsValid(utf8.Span))
        {
            if (context.InvalidUtf8 == InvalidUtf8Policy.Skip)
            {
                context.Diagnostics.InvalidUtf8Skipped.Record(file, position, unit);
                return null;
            }
            context.Diagnostics.InvalidUtf8Replaced.Record(file, position, unit);
            utf8 = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(utf8.Span));
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8);
        }
        catch (JsonException)
        {
            context.Diagnostics.Malformed.Record(file, position, unit);
            return null;
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                context.Diagnostics.Malformed.Record(file, position, unit);
                return null;
            }
            string? language = languageTag;
            if (languageField is not null)
            {
                language = languageField.GetString(root);
                if (language is null)
                {
                    context.Diagnostics.MissingField.Record(file, position, unit);
                    return null;
                }
            }
            string? text = textField.GetString(root);
            if (text is null)
            {
                context.Diagnostics.MissingField.Record(file, position, unit);
                return null;
            }
            return new SourceSample(text, language);
        }
    }
}
