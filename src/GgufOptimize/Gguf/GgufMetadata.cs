using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace GgufOptimize.Gguf;

/// <summary>
/// The key/value metadata of a GGUF file, in file order. Setting an existing key replaces its value
/// in place, so a copied file keeps its key order.
/// </summary>
internal sealed class GgufMetadata : IEnumerable<KeyValuePair<string, GgufValue>>
{
    private readonly OrderedDictionary<string, GgufValue> _items = new(StringComparer.Ordinal);

    public int Count => _items.Count;
    public IEnumerable<string> Keys => _items.Keys;

    public GgufValue this[string key]
    {
        get => _items.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"GGUF metadata has no key '{key}'");
        set => Set(key, value);
    }

    /// <summary>Adds the key at the end, or replaces the value of an existing key where it stands.</summary>
    public void Set(string key, GgufValue value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        _items[key] = value;
    }

    public bool Remove(string key) => _items.Remove(key);
    public bool Contains(string key) => _items.ContainsKey(key);
    public bool TryGet(string key, [NotNullWhen(true)] out GgufValue? value) => _items.TryGetValue(key, out value);

    /// <summary>The string value of <paramref name="key"/>, or null when absent or not a string.</summary>
    public string? GetString(string key) => TryGet(key, out var v) && v.Type == GgufValueType.String ? v.AsString() : null;

    /// <summary>The value of an integer key of any width, or null when absent or not an integer.</summary>
    public long? GetInteger(string key) => TryGet(key, out var v) && v.IsInteger ? v.AsInt64() : null;

    /// <summary>The value of a numeric key (integer or float), or null.</summary>
    public double? GetNumber(string key) => TryGet(key, out var v) && (v.IsInteger || v.Type is GgufValueType.Float32 or GgufValueType.Float64) ? v.AsDouble() : null;

    public bool? GetBool(string key) => TryGet(key, out var v) && v.Type == GgufValueType.Bool ? v.AsBool() : null;

    /// <summary>A copy that can be edited without touching this one (values are immutable and shared).</summary>
    public GgufMetadata Clone()
    {
        var copy = new GgufMetadata();
        foreach (var (k, v) in _items) copy._items.Add(k, v);
        return copy;
    }

    public IEnumerator<KeyValuePair<string, GgufValue>> GetEnumerator() => _items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
