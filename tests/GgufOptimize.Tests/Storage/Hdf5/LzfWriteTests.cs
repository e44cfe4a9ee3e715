using GgufOptimize.Common;
using GgufOptimize.Kld;
using GgufOptimize.Logits;
using GgufOptimize.Storage.Formats;
using GgufOptimize.Storage.Hdf5.Filters;
using GgufOptimize.Tests.Storage.Formats;
using GgufOptimize.Tests.Support;
using PureHDF;
using PureHDF.Filters;
using PureHDF.VOL.Native;

namespace GgufOptimize.Tests.Storage.Hdf5;

/// <summary>LZF as we write it: our decoder, h5py's filter and our whole baseline path all read it back exactly.</summary>
public class LzfWriteTests
{
    public static TheoryData<string> Inputs() => ["empty", "one", "random", "zeros", "text", "floats", "long-runs", "far-matches"];

    private static byte[] Input(string kind)
    {
        var random = new Random(kind.GetHashCode(StringComparison.Ordinal) & 0xffff);
        switch (kind)
        {
            case "empty": return [];
            case "one": return [42];
            case "random": { var b = new byte[100_000]; random.NextBytes(b); return b; }
            case "zeros": return new byte[70_001];
            case "text": return System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 3000).Select(i => $"word{i % 37} and more {i % 11}; ")));
            case "floats": return System.Runtime.InteropServices.MemoryMarshal.AsBytes(Enumerable.Range(0, 20_000).Select(i => (float)Math.Round(Math.Sin(i * 0.01), 2)).ToArray().AsSpan()).ToArray();
            case "long-runs": return Enumerable.Range(0, 50_000).Select(i => (byte)(i / 1000 % 3 == 0 ? 7 : i % 251)).ToArray();
            default:
            {
                // Repeats at distances just under and over the 8192-byte window.
                var block = new byte[8191];
                random.NextBytes(block);
                return [.. block, .. block, .. new byte[5], .. block.AsSpan(0, 3000).ToArray(), .. new byte[8193], .. block.AsSpan(100, 500).ToArray()];
            }
        }
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Compress_then_decompress_gives_the_input_back(string kind)
    {
        byte[] input = Input(kind);
        byte[] packed = Lzf.Compress(input);
        Assert.True(packed.Length <= Lzf.MaxCompressedLength(input.Length));
        Assert.Equal(input.Length, Lzf.DecompressedLength(packed));
        var output = new byte[input.Length];
        Assert.Equal(input.Length, Lzf.Decompress(packed, output));
        Assert.Equal(input, output);
        if (kind is "zeros" or "long-runs") Assert.True(packed.Length < input.Length / 4, $"{kind}: {packed.Length} of {input.Length} bytes");
        if (kind is "text") Assert.True(packed.Length < input.Length / 2, $"{kind}: {packed.Length} of {input.Length} bytes");
    }

    [SkippableFact]
    public void H5py_reads_an_lzf_dataset_we_wrote()
    {
        H5py.RequireInterpreter();
        using var tmp = new TempDir();
        PureHdfFilters.EnsureRegistered();
        var values = Enumerable.Range(0, 64 * 1000).Select(i => i % 97 < 50 ? 3 : i % 1000).ToArray();
        var creation = new H5DatasetCreation(Filters: [new H5Filter(Id: LzfFilter.Id)]);
        var file = new H5File { ["x"] = new H5Dataset(values, fileDims: [64, 1000], chunks: [8, 1000], datasetCreation: creation) };
        file.Write(tmp.File("lzf.h5"));

        var info = H5py.Json("""
            import sys, json, h5py, numpy as np
            d = h5py.File(sys.argv[1], 'r')['x']
            print(json.dumps({'compression': d.compression, 'sum': int(d[...].astype(np.int64).sum()), 'shape': list(d.shape),
                              'stored': int(d.id.get_storage_size())}))
            """, tmp.File("lzf.h5"));
        Assert.Equal("lzf", info.GetProperty("compression").GetString());
        Assert.Equal(values.Sum(v => (long)v), info.GetProperty("sum").GetInt64());
        Assert.True(info.GetProperty("stored").GetInt64() < values.Length * 4L / 2, "the data is compressible and must have shrunk");

        using var back = H5File.OpenRead(tmp.File("lzf.h5"));
        Assert.Equal(values, back.Dataset("x").Read<int[]>());
    }

    [Slow]
    [SkippableFact]
    public void Logits_with_lzf_are_read_by_h5py_and_by_us_as_the_plain_file()
    {
        H5py.RequireInterpreter();
        using var tmp = new TempDir();
        string data = FormatFixtures.Text(tmp, 6000);
        LogitsJobOptions Options(string name, LogitsCompression compression) => new()
        {
            ModelPath = SharedAssets.AidreamsModel, DatasetPath = data, OutputPath = tmp.File(name), Precision = 16, Compression = compression,
        };
        LogitsJob.Run(Options("plain.h5", LogitsCompression.None), NullProgress.Instance, default);
        LogitsJob.Run(Options("lzf.h5", LogitsCompression.Lzf), NullProgress.Instance, default);
        Assert.Equal(StoredLogitsKind.FullCompressed, StoredBaselines.Detect(tmp.File("lzf.h5")));

        var info = H5py.Json("""
            import sys, json, h5py, numpy as np
            a, b = h5py.File(sys.argv[1], 'r'), h5py.File(sys.argv[2], 'r')
            print(json.dumps({'compression': b['logits'].compression,
                              'equal': bool(np.array_equal(a['logits'][...], b['logits'][...])),
                              'tokens': bool(np.array_equal(a['tokens'][...], b['tokens'][...]))}))
            """, tmp.File("plain.h5"), tmp.File("lzf.h5"));
        Assert.Equal("lzf", info.GetProperty("compression").GetString());
        Assert.True(info.GetProperty("equal").GetBoolean());
        Assert.True(info.GetProperty("tokens").GetBoolean());

        var self = KldJob.Run(new KldJobOptions { BaselineLogits = tmp.File("plain.h5"), TargetLogits = tmp.File("lzf.h5"), OutputFile = tmp.File("c.h5") }, NullProgress.Instance, default);
        Assert.True(self.Overall.Tokens > 0);
        Assert.All(self.Chunks, c => Assert.All(c.Kld, k => Assert.Equal(0.0, k)));
    }
}
