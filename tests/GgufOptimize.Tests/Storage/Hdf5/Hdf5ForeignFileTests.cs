using GgufOptimize.Common;
using GgufOptimize.Storage.Hdf5;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Storage.Hdf5;

/// <summary>Open also reads files written by h5py when their datasets are contiguous, and rejects the rest clearly.</summary>
public class Hdf5ForeignFileTests
{
    private const string WriteSample = """
        import sys, h5py, numpy as np
        libver = sys.argv[2]
        with h5py.File(sys.argv[1], "w", libver=("earliest" if libver == "earliest" else "latest")) as f:
            f.attrs["format"] = "generate_logits_v0.5"
            f.attrs["n_ctx"] = 4
            f.attrs["fixed"] = np.bytes_(b"abc")
            f.attrs["ratio"] = np.float32(0.5)
            f.attrs["flag"] = True
            f.attrs["shape"] = np.array([2, 3], dtype="<i4")
            f.attrs["tags"] = ["x", "yz"]
            d = f.create_dataset("logits", data=np.arange(24, dtype="<f4").reshape(2, 3, 4))
            d.attrs["unit"] = "nat"
            f.create_dataset("half", data=np.array([0.5, -2], dtype="<f2"))
            f.create_dataset("processed_chunks", data=np.array([True, False, True]))
            g = f.create_group("stats")
            for i in range(int(sys.argv[3])):
                g.create_dataset("c%03d" % i, data=np.array([i], dtype="<i8"))
            # Attributes added after creation spill into a continuation block of the header.
            for i in range(int(sys.argv[4])):
                d.attrs["late%02d" % i] = "v" * 40
        """;

    [SkippableTheory]
    [InlineData("earliest", 300, 12)] // superblock v0, symbol-table groups with a multi-level B-tree, v1 headers
    [InlineData("latest", 8, 7)]      // superblock v3, v2 headers, compact links and attributes (≤ 8 each)
    public void Contiguous_h5py_files_open_with_correct_offsets_and_attributes(string libver, int members, int lateAttributes)
    {
        using var dir = new TempDir();
        var path = dir.File($"{libver}.h5");
        H5py.Run(WriteSample, path, libver, members.ToString(), lateAttributes.ToString());

        var layout = Hdf5ContiguousFile.Open(path);
        Assert.Equal("generate_logits_v0.5", layout.Root.Attribute<string>("format"));
        Assert.Equal(4L, layout.Root.Attribute<long>("n_ctx"));
        Assert.Equal("abc", layout.Root.Attribute<string>("fixed"));
        Assert.Equal(0.5, layout.Root.Attribute<double>("ratio"));
        Assert.True(layout.Root.Attribute<bool>("flag"));
        Assert.Equal(new long[] { 2, 3 }, layout.Root.Attribute<long[]>("shape"));
        Assert.Equal(new[] { "x", "yz" }, layout.Root.Attribute<string[]>("tags"));
        var logits = layout.Dataset("logits");
        Assert.Equal(H5ElementType.Float32, logits.Type);
        Assert.Equal(new long[] { 2, 3, 4 }, logits.Shape);
        Assert.Equal("nat", logits.Attribute<string>("unit"));
        Assert.Equal(new string('v', 40), logits.Attribute<string>($"late{lateAttributes - 1:D2}"));
        Assert.Equal(members, layout.Group("stats").Members.Count);

        using var reader = Hdf5MappedReader.Open(layout);
        Assert.Equal(Enumerable.Range(0, 24).Select(i => (float)i), reader.Elements<float>(logits, 0, 24).ToArray());
        Assert.Equal(new[] { (Half)0.5, (Half)(-2) }, reader.Elements<Half>("half", 0, 2).ToArray());
        Assert.Equal(new[] { true, false, true }, reader.Elements<bool>("processed_chunks", 0, 3).ToArray());
        for (int i = 0; i < members; i++)
            Assert.Equal(i, reader.Elements<long>($"stats/c{i:D3}", 0, 1)[0]);
    }

    [Slow]
    [SkippableTheory]
    [InlineData("f.create_dataset('x', data=np.zeros((4, 4), 'f4'), chunks=(2, 2))", "dataset /x is chunked")]
    [InlineData("f.create_dataset('x', data=np.zeros(100, 'f4'), compression='gzip')", "dataset /x is compressed")]
    [InlineData("f.create_dataset('x', shape=(10,), dtype='f4')", "dataset /x has no storage allocated")]
    [InlineData("f.create_dataset('x', data=np.zeros(3, '>f4'))", "dataset /x has datatype float32 big-endian")]
    [InlineData("f.create_dataset('x', data=np.array([b'ab', b'cd']))", "dataset /x has datatype fixed-length string")]
    [InlineData("f.attrs['x'] = np.zeros(2, dtype=[('a', 'i4'), ('b', 'f4')])", "attribute 'x' of / has datatype compound")]
    [InlineData("[f.create_group('g%d' % i) for i in range(20)]", "group / keeps its links in dense storage")]
    [InlineData("f.attrs.update({'a%d' % i: i for i in range(20)})", "/ keeps its attributes in dense storage")]
    public void Unsupported_storage_in_h5py_files_is_bad_input_naming_the_object(string statement, string expected)
    {
        using var dir = new TempDir();
        var path = dir.File("foreign.h5");
        H5py.Run($"""
            import sys, h5py, numpy as np
            with h5py.File(sys.argv[1], "w", libver="latest") as f:
                {statement}
            """, path);
        var e = Assert.Throws<GgufOptimizeException>(() => Hdf5ContiguousFile.Open(path));
        Assert.Equal(FailureKind.BadInput, e.Kind);
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }
}
