using GgufOptimize.Common;

namespace GgufOptimize.Storage.Hdf5;

/// <summary>Where every dataset of a file lives, plus the groups and attributes (from <see cref="Hdf5ContiguousFile"/>).</summary>
internal sealed class Hdf5Layout
{
    private readonly Dictionary<string, Hdf5DatasetInfo> _datasets;
    private readonly Dictionary<string, Hdf5GroupInfo> _groups;

    internal Hdf5Layout(string filePath, long fileLength, IReadOnlyList<Hdf5GroupInfo> groups, IReadOnlyList<Hdf5DatasetInfo> datasets)
    {
        FilePath = filePath;
        FileLength = fileLength;
        Groups = groups;
        Datasets = datasets;
        _groups = groups.ToDictionary(g => g.Path);
        _datasets = datasets.ToDictionary(d => d.Path);
    }

    public string FilePath { get; }
    public long FileLength { get; }

    /// <summary>Groups in depth-first link order, the root first.</summary>
    public IReadOnlyList<Hdf5GroupInfo> Groups { get; }

    /// <summary>Datasets in depth-first link order.</summary>
    public IReadOnlyList<Hdf5DatasetInfo> Datasets { get; }

    public Hdf5GroupInfo Root => _groups["/"];

    /// <summary>The dataset at <paramref name="path"/> ("x/y" or "/x/y"); missing is a BadInput error naming the file.</summary>
    public Hdf5DatasetInfo Dataset(string path) =>
        TryGetDataset(path, out var dataset)
            ? dataset
            : throw GgufOptimizeException.BadInput($"HDF5 file '{FilePath}' has no dataset {Hdf5Names.Absolute(path)}");

    public bool TryGetDataset(string path, out Hdf5DatasetInfo dataset) =>
        _datasets.TryGetValue(Hdf5Names.Absolute(path), out dataset!);

    public Hdf5GroupInfo Group(string path) =>
        _groups.TryGetValue(Hdf5Names.Absolute(path), out var group)
            ? group
            : throw GgufOptimizeException.BadInput($"HDF5 file '{FilePath}' has no group {Hdf5Names.Absolute(path)}");
}
