namespace GgufOptimize.Datasets.Sources;

/// <summary>Counts one kind of bad input and keeps where the first few occurred, so a report can point at them.</summary>
public sealed class IssueCounter
{
    public const int KeptLocations = 5;
    private readonly List<string> _first = [];

    public long Count { get; private set; }
    public IReadOnlyList<string> FirstLocations => _first;

    /// <summary>Records an occurrence at line <paramref name="line"/> (or row, or byte offset: <paramref name="unit"/>) of <paramref name="file"/>.</summary>
    public void Record(string file, long line, string unit = "")
    {
        Count++;
        // Formatting only the kept locations keeps a corpus full of bad lines cheap to scan.
        if (_first.Count < KeptLocations) _first.Add(unit.Length == 0 ? $"{file}:{line}" : $"{file} {unit} {line}");
    }

    public void Record(string location)
    {
        Count++;
        if (_first.Count < KeptLocations) _first.Add(location);
    }
}
