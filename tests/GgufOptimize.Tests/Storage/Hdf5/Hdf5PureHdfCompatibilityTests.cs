using GgufOptimize.Storage.Hdf5;
using GgufOptimize.Tests.Support;
using PureHDF;

namespace GgufOptimize.Tests.Storage.Hdf5;

/// <summary>PureHDF (the HDF5 reader used elsewhere in the project) must read our files too.</summary>
public class Hdf5PureHdfCompatibilityTests
{
    [Fact]
    public void PureHdf_reads_datasets_and_attributes_of_our_file()
    {
        using var dir = new TempDir();
        var path = dir.File("purehdf.h5");
        var spec = new Hdf5FileSpec();
        spec.Root.SetAttribute("format", "ünïcode format");
        spec.Root.SetAttribute("n_vocab", 3L);
        spec.Root.SetAttribute("scale", 0.125);
        spec.Root.SetAttribute("done", true);
        spec.Root.SetAttribute("ids", new long[] { 4, 5 });
        spec.Root.SetAttribute("weights", new[] { 1.5, 2.5 });
        spec.Root.SetAttribute("names", new[] { "x", "", "yz" });
        spec.Root.AddDataset("logits", H5ElementType.Float32, 2, 2, 3).SetAttribute("unit", "nat");
        spec.Root.AddDataset("half", H5ElementType.Float16, 4);
        spec.Root.AddDataset("processed_chunks", H5ElementType.Bool, 2);
        spec.Root.AddGroup("g").AddDataset("ids", H5ElementType.Int64, 3).SetInitialData(new long[] { -1, 0, 1 });
        var layout = Hdf5ContiguousFile.Create(path, spec);
        using (var writer = Hdf5DataWriter.Open(layout))
        {
            writer.WriteRows<float>(layout.Dataset("logits"), 1, [1, 2, 3, 4, 5, 6]);
            writer.Write<Half>("half", 0, [(Half)0.5, (Half)(-1), (Half)2, (Half)0]);
            writer.Write<bool>("processed_chunks", 1, [true]);
        }

        using var file = H5File.OpenRead(path);
        Assert.Equal("ünïcode format", file.Attribute("format").Read<string>());
        Assert.Equal(3L, file.Attribute("n_vocab").Read<long>());
        Assert.Equal(0.125, file.Attribute("scale").Read<double>());
        Assert.True(file.Attribute("done").Read<bool>());
        Assert.Equal(new long[] { 4, 5 }, file.Attribute("ids").Read<long[]>());
        Assert.Equal(new[] { 1.5, 2.5 }, file.Attribute("weights").Read<double[]>());
        Assert.Equal(new[] { "x", "", "yz" }, file.Attribute("names").Read<string[]>());

        var logits = file.Dataset("logits");
        Assert.Equal(new ulong[] { 2, 2, 3 }, logits.Space.Dimensions);
        Assert.Equal(new float[] { 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6 }, logits.Read<float[]>());
        Assert.Equal("nat", logits.Attribute("unit").Read<string>());
        Assert.Equal(new[] { (Half)0.5, (Half)(-1), (Half)2, (Half)0 }, file.Dataset("half").Read<Half[]>());
        Assert.Equal(new[] { false, true }, file.Dataset("processed_chunks").Read<bool[]>());
        Assert.Equal(new long[] { -1, 0, 1 }, file.Group("g").Dataset("ids").Read<long[]>());
    }
}
