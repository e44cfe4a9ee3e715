using PureHDF.Filters;

namespace GgufOptimize.Storage.Hdf5.Filters;

/// <summary>
/// Makes PureHDF able to read every filter llama-gguf-optimize's files can carry. PureHDF 2.2.0 brings deflate,
/// shuffle, fletcher32, nbit and scale-offset; h5py adds LZF (generate_logits.py offers gzip, lzf and none), which
/// we register here. Call <see cref="EnsureRegistered"/> before opening a file with PureHDF.
/// </summary>
internal static class PureHdfFilters
{
    private static readonly Lazy<bool> Registered = new(() =>
    {
        H5Filter.Register(new LzfFilter());
        return true;
    });

    public static void EnsureRegistered() => _ = Registered.Value;
}
