namespace GgufOptimize.Storage.Hdf5;

/// <summary>
/// A group or dataset of a file being described before it is written. Attribute values are limited to the types
/// h5py maps naturally: string (variable-length UTF-8, read as str), long (int64), double (float64), bool,
/// and one-dimensional long[] / double[] / string[].
/// </summary>
internal abstract class Hdf5ObjectSpec
{
    private readonly List<KeyValuePair<string, object>> _attributes = [];

    private protected Hdf5ObjectSpec(string name, string path)
    {
        Name = name;
        Path = path;
    }

    /// <summary>Link name inside the parent group ("" for the root).</summary>
    public string Name { get; }

    /// <summary>Absolute path, e.g. "/" or "/logits".</summary>
    public string Path { get; }

    /// <summary>Attributes in the order they were first set.</summary>
    public IReadOnlyList<KeyValuePair<string, object>> Attributes => _attributes;

    public void SetAttribute(string name, string value) => Set(name, value ?? throw new ArgumentNullException(nameof(value)));
    public void SetAttribute(string name, long value) => Set(name, value);
    public void SetAttribute(string name, double value) => Set(name, value);
    public void SetAttribute(string name, bool value) => Set(name, value);
    public void SetAttribute(string name, long[] value) => Set(name, (long[])value.Clone());
    public void SetAttribute(string name, double[] value) => Set(name, (double[])value.Clone());

    public void SetAttribute(string name, string[] value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (Array.IndexOf(value, null) >= 0)
            throw new ArgumentException($"attribute {name} of {Path}: string array contains null", nameof(value));
        Set(name, (string[])value.Clone());
    }

    private void Set(string name, object value)
    {
        Hdf5Names.Validate(name, "attribute name");
        int index = _attributes.FindIndex(a => a.Key == name);
        var entry = new KeyValuePair<string, object>(name, value);
        if (index >= 0) _attributes[index] = entry;
        else _attributes.Add(entry);
    }
}

internal static class Hdf5Names
{
    public static void Validate(string name, string what)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0 || name.Contains('/') || name == "." || name.Contains('\0'))
            throw new ArgumentException($"invalid HDF5 {what} '{name}': must be non-empty, not '.', without '/' or NUL");
    }

    public static string Join(string parentPath, string name) => parentPath == "/" ? "/" + name : parentPath + "/" + name;

    /// <summary>Accepts "x/y" or "/x/y" and returns the absolute form.</summary>
    public static string Absolute(string path) => path.StartsWith('/') ? path : "/" + path;
}
