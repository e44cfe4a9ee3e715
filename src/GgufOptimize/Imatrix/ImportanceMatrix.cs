using GgufOptimize.Engine;

namespace GgufOptimize.Imatrix;

/// <summary>
/// An importance matrix: per weight, the summed squared input activations seen while evaluating a
/// calibration text, plus where they came from (datasets, how many chunks of what size).
/// </summary>
internal sealed class ImportanceMatrix : IActivationSink
{
    private readonly SortedDictionary<string, ImatrixEntry> _entries = new(StringComparer.Ordinal);

    /// <summary>The calibration files, in the order their statistics were added.</summary>
    public List<string> Datasets { get; } = [];
    /// <summary>Chunks of calibration text evaluated.</summary>
    public int ChunkCount { get; set; }
    /// <summary>Tokens per chunk (the context size used).</summary>
    public int ChunkSize { get; set; }
    /// <summary>Set on a shard's piece (see <see cref="ImatrixCoverage"/>); null for whole runs and merges of arbitrary files.</summary>
    internal ImatrixCoverage? Coverage { get; set; }

    /// <summary>Entries sorted by weight name (ordinal), the order llama.cpp writes them in.</summary>
    public IReadOnlyCollection<ImatrixEntry> Entries => _entries.Values;

    public int Count => _entries.Count;

    public ImatrixEntry? Find(string name) => _entries.GetValueOrDefault(name);

    /// <summary>Adds statistics for one weight, creating its entry the first time.</summary>
    public void Add(string name, ReadOnlySpan<double> sums, ReadOnlySpan<long> counts)
    {
        if (_entries.TryGetValue(name, out var entry)) entry.Add(sums, counts);
        else _entries[name] = new ImatrixEntry(name, sums.ToArray(), counts.ToArray());
    }

    public bool Remove(string name) => _entries.Remove(name);

    /// <summary>Adds everything <paramref name="other"/> holds: sums and counts add, chunks add, datasets append.</summary>
    public void Merge(ImportanceMatrix other)
    {
        foreach (var e in other.Entries) Add(e.Name, e.Sums, e.Counts);
        ChunkCount += other.ChunkCount;
        if (ChunkSize == 0) ChunkSize = other.ChunkSize;
        Datasets.AddRange(other.Datasets);
    }

    public ImportanceMatrix Clone()
    {
        var copy = new ImportanceMatrix { ChunkCount = ChunkCount, ChunkSize = ChunkSize };
        copy.Datasets.AddRange(Datasets);
        foreach (var e in Entries) copy._entries[e.Name] = e.Clone();
        return copy;
    }

    void IActivationSink.Add(string weight, ReadOnlySpan<double> squares, ReadOnlySpan<long> rows) => Add(weight, squares, rows);
}
