using System.Text.Json;
using GgufOptimize.Common;

namespace GgufOptimize.Datasets.Sources;

/// <summary>
/// Where a value sits in a JSON record: dot-separated property names, with numbers indexing arrays
/// (<c>meta.lang</c>, <c>messages.0.content</c>). A property literally named with dots is found too.
/// </summary>
internal sealed class JsonFieldPath
{
    private readonly string[] _segments;

    private JsonFieldPath(string text, string[] segments)
    {
        Text = text;
        _segments = segments;
    }

    public string Text { get; }

    public static JsonFieldPath Parse(string text, string option = "--text-field")
    {
        if (string.IsNullOrWhiteSpace(text)) throw GgufOptimizeException.BadInput($"{option} is empty");
        var segments = text.Split('.');
        if (segments.Any(s => s.Length == 0)) throw GgufOptimizeException.BadInput($"{option} '{text}' has an empty path segment");
        return new JsonFieldPath(text, segments);
    }

    /// <summary>The string at this path, or null when it is missing, null or not a string.</summary>
    public string? GetString(JsonElement root)
    {
        if (root.ValueKind == JsonValueKind.Object && _segments.Length > 1 && root.TryGetProperty(Text, out var whole))
            return whole.ValueKind == JsonValueKind.String ? whole.GetString() : null;
        var current = root;
        foreach (var segment in _segments)
        {
            if (current.ValueKind == JsonValueKind.Object)
            {
                if (!current.TryGetProperty(segment, out current)) return null;
            }
            else if (current.ValueKind == JsonValueKind.Array && int.TryParse(segment, out int index) && index >= 0 && index < current.GetArrayLength())
            {
                current = current[index];
            }
            else return null;
        }
        return current.ValueKind == JsonValueKind.String ? current.GetString() : null;
    }

    public override string ToString() => Text;
}
