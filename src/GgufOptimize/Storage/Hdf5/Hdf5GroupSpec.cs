namespace GgufOptimize.Storage.Hdf5;

/// <summary>A group of a file being described: child groups and datasets in insertion order, plus attributes.</summary>
internal sealed class Hdf5GroupSpec : Hdf5ObjectSpec
{
    private readonly List<Hdf5ObjectSpec> _children = [];

    internal Hdf5GroupSpec(string name, string path) : base(name, path) { }

    /// <summary>Children in the order they were added.</summary>
    public IReadOnlyList<Hdf5ObjectSpec> Children => _children;

    public Hdf5GroupSpec AddGroup(string name)
    {
        var group = new Hdf5GroupSpec(name, ChildPath(name));
        _children.Add(group);
        return group;
    }

    /// <summary>Adds a contiguous dataset (zero-filled unless initial data is set); an empty shape means a scalar.</summary>
    public Hdf5DatasetSpec AddDataset(string name, H5ElementType type, params long[] shape)
    {
        var dataset = new Hdf5DatasetSpec(name, ChildPath(name), type, shape);
        _children.Add(dataset);
        return dataset;
    }

    private string ChildPath(string name)
    {
        Hdf5Names.Validate(name, "link name");
        if (_children.Any(c => c.Name == name))
            throw new ArgumentException($"group {Path} already has a member named '{name}'");
        return Hdf5Names.Join(Path, name);
    }
}
