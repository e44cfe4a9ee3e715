namespace GgufOptimize.Bench;

/// <summary>Dispatcher entry for <see cref="Hdf5WriteBench"/>.</summary>
public sealed class Hdf5Benchmark : IBenchmark
{
    public string Name => "hdf5";
    public string Description => "contiguous HDF5 writer vs dd, mapped reads vs FileStream, PureHDF anchor [--mb 2048] [--purehdf-mb 512] [--rounds 3] [--dir /tmp]";

    public int Run(string[] args)
    {
        Hdf5WriteBench.Run(args);
        return 0;
    }
}
