using GgufOptimize.Common;
using GgufOptimize.Kld;
using GgufOptimize.Logits;
using GgufOptimize.Storage.Formats;
using GgufOptimize.Tests.Storage.Hdf5;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Storage.Formats;

public class CompressedFormatTests
{
    [Slow]
    [SkippableTheory]
    [InlineData(32)]
    [InlineData(16)]
    public void Gzip_output_is_chunked_deflate_hdf5_with_the_same_logits_and_compares_identically(int precision)
    {
        using var tmp = new TempDir();
        string data = FormatFixtures.Text(tmp, 6000);
        LogitsJobOptions Options(string name, LogitsCompression compression) => new()
        {
            ModelPath = SharedAssets.AidreamsModel, DatasetPath = data, OutputPath = tmp.File(name), Precision = precision, Compression = compression,
        };
        LogitsJob.Run(Options("plain.h5", LogitsCompression.None), NullProgress.Instance, default);
        LogitsJob.Run(Options("gz.h5", LogitsCompression.Gzip), NullProgress.Instance, default);
        Assert.False(File.Exists(tmp.File("gz.h5.partial")));
        Assert.Equal(StoredLogitsKind.FullCompressed, StoredBaselines.Detect(tmp.File("gz.h5")));
        var again = LogitsJob.Run(Options("gz.h5", LogitsCompression.Gzip), NullProgress.Instance, default);
        Assert.Equal(0, again.ChunksComputed);

        var info = H5py.Json("""
            import sys, json, h5py, numpy as np
            a, b = h5py.File(sys.argv[1], 'r'), h5py.File(sys.argv[2], 'r')
            print(json.dumps({'compression': b['logits'].compression, 'chunks': list(b['logits'].chunks),
                              'equal': bool(np.array_equal(a['logits'][...], b['logits'][...])),
                              'tokens': bool(np.array_equal(a['tokens'][...], b['tokens'][...])),
                              'attrs': all(bool(np.all(a.attrs[k] == b.attrs[k])) for k in a.attrs.keys()),
                              'flags': bool(np.array_equal(a['processed_chunks'][...], b['processed_chunks'][...].astype(bool)))}))
            """, tmp.File("plain.h5"), tmp.File("gz.h5"));
        Assert.Equal("gzip", info.GetProperty("compression").GetString());
        Assert.Equal(1, info.GetProperty("chunks")[0].GetInt32());
        Assert.True(info.GetProperty("equal").GetBoolean());
        Assert.True(info.GetProperty("tokens").GetBoolean());
        Assert.True(info.GetProperty("attrs").GetBoolean());
        Assert.True(info.GetProperty("flags").GetBoolean());

        string target = FormatFixtures.Quantized(tmp);
        var plain = KldJob.Run(new KldJobOptions { BaselineLogits = tmp.File("plain.h5"), TargetModel = target, OutputFile = tmp.File("a.h5") }, NullProgress.Instance, default);
        var gz = KldJob.Run(new KldJobOptions { BaselineLogits = tmp.File("gz.h5"), TargetModel = target, OutputFile = tmp.File("b.h5") }, NullProgress.Instance, default);
        Assert.Equal(plain.Overall, gz.Overall);
        // As a stored target the compressed file holds the same rows: zero divergence everywhere.
        var self = KldJob.Run(new KldJobOptions { BaselineLogits = tmp.File("plain.h5"), TargetLogits = tmp.File("gz.h5"), OutputFile = tmp.File("c.h5") }, NullProgress.Instance, default);
        Assert.Equal(plain.Overall.Tokens, self.Overall.Tokens);
        Assert.All(self.Chunks, c => Assert.All(c.Kld, k => Assert.Equal(0f, k)));
    }
}
