namespace GgufOptimize.Datasets.Sources;

/// <summary>Counts one kind of bad input and keeps where the first few occurred, so a report can point at them.</summary>
public sealed class IssueCounter
{
    /// <summary>How many locations are kept; later occurrences are only counted.</summary>
    public const int KeptLocations = 5;
    private readonly List<string> _first = [];

    /// <summary>Occurrences recorded so far (all of them, not only the kept locations).</summary>
    public long Count { get; private set; }

    /// <summary>Where the first <see cref="KeptLocations"/> occurrences were, in the order they were recorded.</summary>
    public IReadOnlyList<string> FirstLocations => _first;

    /// <summary>Records an occurrence at line <paramref name="line"/> (or row, or byte offset: <paramref name="unit"/>) of <paramref name="file"/>.</summary>
    public void Record(string file, long line, string unit = "")
    {
        Count++;
        // Formatting only the kept locations keeps a corpus full of bad lines cheap to scan.
        if (_first.Count < KeptLocations) _first.Add(unit.Length == 0 ? $"{file}:{line}" : $"{file} {unit} {line}");
    }

    /// <summary>Records an occurrence at a location the caller has already formatted (for example "file.parquet row group 3").</summary>
    public void Record(string location)
    {
        Count++;
        if (_first.Count < KeptLocations) _first.Add(location);
    }
}
