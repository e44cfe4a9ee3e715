namespace GgufOptimize.Storage.Hdf5;

/// <summary>The whole content of an HDF5 file (groups, contiguous datasets, attributes) described before it is written.</summary>
internal sealed class Hdf5FileSpec
{
    public Hdf5GroupSpec Root { get; } = new("", "/");
}
