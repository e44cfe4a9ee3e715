using System.Security.Cryptography;
using System.Runtime.InteropServices;
using System.Text.Json;
using GgufOptimize.Storage.Hdf5;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Storage.Hdf5;

/// <summary>Files we write must read back in h5py (libhdf5) with exact shapes, dtypes and values.</summary>
public class Hdf5H5pyCompatibilityTests
{
    [Slow]
    [SkippableFact]
    public void H5py_reads_shapes_dtypes_values_attributes_and_patched_flags()
    {
        H5py.RequireInterpreter();
        using var dir = new TempDir();
        var path = dir.File("logits.h5");

        var spec = new Hdf5FileSpec();
        spec.Root.SetAttribute("format", "generate_logits_v0.5.3 — ünïcode");
        spec.Root.SetAttribute("n_ctx", 4L);
        spec.Root.SetAttribute("n_vocab", 3L);
        spec.Root.SetAttribute("total_chunks", 5L);
        spec.Root.SetAttribute("temperature", 0.75);
        spec.Root.SetAttribute("complete", false);
        spec.Root.SetAttribute("ids", new long[] { 1, -2, long.MaxValue });
        spec.Root.SetAttribute("weights", new[] { 0.5, -1e300 });
        spec.Root.SetAttribute("names", new[] { "a", "", "long " + new string('x', 3000) });
        spec.Root.SetAttribute("empty", "");
        var logits = spec.Root.AddDataset("logits", H5ElementType.Float32, 5, 4, 3);
        logits.SetAttribute("unit", "nat");
        var half = spec.Root.AddDataset("logits_f16", H5ElementType.Float16, 2, 3);
        var flags = spec.Root.AddDataset("processed_chunks", H5ElementType.Bool, 5);
        var index = spec.Root.AddDataset("chunk_index", H5ElementType.Int64, 5);
        index.SetInitialData(new long[] { 10, 11, 12, 13, long.MinValue });
        var group = spec.Root.AddGroup("meta");
        group.SetAttribute("model", "aidreams");
        var nested = group.AddDataset("scalar", H5ElementType.Float64);
        nested.SetInitialData(new[] { Math.PI });
        var empty = group.AddDataset("empty", H5ElementType.Int32, 0);
        var bytes = group.AddDataset("u8", H5ElementType.UInt8, 4);
        bytes.SetInitialData(new byte[] { 0, 1, 254, 255 });

        var layout = Hdf5ContiguousFile.Create(path, spec);
        var rows = Enumerable.Range(0, 2 * 4 * 3).Select(i => i * 0.25f - 3).ToArray();
        using (var writer = Hdf5DataWriter.Open(layout))
        {
            // Chunk 3 and chunk 1 written out of order; chunks 0, 2, 4 stay zero.
            writer.WriteRows(layout.Dataset("logits"), 3, rows.AsSpan(0, 12));
            writer.WriteRows(layout.Dataset("/logits"), 1, rows.AsSpan(12, 12));
            writer.Write(layout.Dataset("logits_f16"), 0, new[] { (Half)1.5, (Half)(-2), Half.MaxValue, (Half)0, (Half)0.099975586, Half.Epsilon }.AsSpan());
            writer.Flush();
            writer.Write(layout.Dataset("processed_chunks"), 3, new[] { true }.AsSpan());
            writer.Write(layout.Dataset("processed_chunks"), 1, new[] { true }.AsSpan());
        }

        var dump = H5py.Json(H5py.DumpScript, path);

        var root = dump.GetProperty("/");
        Assert.Equal("group", root.GetProperty("kind").GetString());
        var attrs = root.GetProperty("attrs");
        AssertAttr(attrs, "format", "str", "generate_logits_v0.5.3 — ünïcode");
        AssertAttr(attrs, "n_ctx", "int64", 4);
        AssertAttr(attrs, "total_chunks", "int64", 5);
        AssertAttr(attrs, "temperature", "float64", 0.75);
        AssertAttr(attrs, "complete", "bool_", false);
        Assert.Equal("ndarray", attrs.GetProperty("ids").GetProperty("py").GetString());
        Assert.Equal("<i8", attrs.GetProperty("ids").GetProperty("dtype").GetString());
        Assert.Equal(new[] { 1, -2, long.MaxValue }, attrs.GetProperty("ids").GetProperty("v").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(new[] { 0.5, -1e300 }, attrs.GetProperty("weights").GetProperty("v").EnumerateArray().Select(e => e.GetDouble()));
        Assert.Equal("str", attrs.GetProperty("names").GetProperty("elem").GetString());
        Assert.Equal(new[] { "a", "", "long " + new string('x', 3000) },
            attrs.GetProperty("names").GetProperty("v").EnumerateArray().Select(e => e.GetString()));
        AssertAttr(attrs, "empty", "str", "");

        var l = dump.GetProperty("/logits");
        Assert.Equal(new long[] { 5, 4, 3 }, l.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal("<f4", l.GetProperty("dtype").GetString());
        Assert.True(l.GetProperty("contiguous").GetBoolean());
        var expected = new float[5 * 4 * 3];
        rows.AsSpan(0, 12).CopyTo(expected.AsSpan(3 * 12));
        rows.AsSpan(12, 12).CopyTo(expected.AsSpan(1 * 12));
        Assert.Equal(Sha256(MemoryMarshal.AsBytes(expected.AsSpan())), l.GetProperty("sha256").GetString());
        Assert.Equal(expected.Select(f => (double)f), l.GetProperty("values").EnumerateArray().Select(e => e.GetDouble()));
        AssertAttr(l.GetProperty("attrs"), "unit", "str", "nat");

        var h = dump.GetProperty("/logits_f16");
        Assert.Equal("<f2", h.GetProperty("dtype").GetString());
        Assert.Equal(new[] { 1.5, -2, 65504, 0, (double)(Half)0.099975586, (double)Half.Epsilon },
            h.GetProperty("values").EnumerateArray().Select(e => e.GetDouble()));

        var p = dump.GetProperty("/processed_chunks");
        Assert.Equal("|b1", p.GetProperty("dtype").GetString());
        Assert.Equal(new[] { false, true, false, true, false }, p.GetProperty("values").EnumerateArray().Select(e => e.GetBoolean()));

        var ci = dump.GetProperty("/chunk_index");
        Assert.Equal("<i8", ci.GetProperty("dtype").GetString());
        Assert.Equal(new[] { 10, 11, 12, 13, long.MinValue }, ci.GetProperty("values").EnumerateArray().Select(e => e.GetInt64()));

        AssertAttr(dump.GetProperty("/meta").GetProperty("attrs"), "model", "str", "aidreams");
        var s = dump.GetProperty("/meta/scalar");
        Assert.Empty(s.GetProperty("shape").EnumerateArray());
        Assert.Equal(Math.PI, s.GetProperty("values")[0].GetDouble());
        var e0 = dump.GetProperty("/meta/empty");
        Assert.Equal("<i4", e0.GetProperty("dtype").GetString());
        Assert.Equal(new long[] { 0 }, e0.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(new[] { 0, 1, 254, 255 }, dump.GetProperty("/meta/u8").GetProperty("values").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("|u1", dump.GetProperty("/meta/u8").GetProperty("dtype").GetString());
    }

    [SkippableFact]
    public void H5py_reads_every_element_type_and_many_members_and_attributes()
    {
        H5py.RequireInterpreter();
        using var dir = new TempDir();
        var path = dir.File("types.h5");
        var spec = new Hdf5FileSpec();
        // More than 8 links and more than 8 attributes exceed HDF5's default compact limits.
        foreach (var type in Enum.GetValues<H5ElementType>())
            spec.Root.AddDataset(type.ToString(), type, 3);
        for (int i = 0; i < 20; i++) spec.Root.SetAttribute($"attr{i:D2}", (long)i);
        var layout = Hdf5ContiguousFile.Create(path, spec);
        using (var writer = Hdf5DataWriter.Open(layout))
        {
            writer.Write<bool>("Bool", 0, [true, false, true]);
            writer.Write<sbyte>("Int8", 0, [-128, 0, 127]);
            writer.Write<byte>("UInt8", 0, [0, 128, 255]);
            writer.Write<short>("Int16", 0, [short.MinValue, 0, short.MaxValue]);
            writer.Write<ushort>("UInt16", 0, [0, 1, ushort.MaxValue]);
            writer.Write<int>("Int32", 0, [int.MinValue, 0, int.MaxValue]);
            writer.Write<uint>("UInt32", 0, [0, 1, uint.MaxValue]);
            writer.Write<long>("Int64", 0, [long.MinValue, 0, long.MaxValue]);
            writer.Write<ulong>("UInt64", 0, [0, 1, 1UL << 63]);
            writer.Write<Half>("Float16", 0, [(Half)(-0.5), (Half)1024, (Half)3.140625]);
            writer.Write<float>("Float32", 0, [float.MinValue, 1e-30f, 3.5f]);
            writer.Write<double>("Float64", 0, [double.MaxValue, -1e-300, 2.5]);
        }
        var dump = H5py.Json(H5py.DumpScript, path);
        string[] dtypes = ["|b1", "|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", "<f2", "<f4", "<f8"];
        var types = Enum.GetValues<H5ElementType>();
        for (int i = 0; i < types.Length; i++)
            Assert.Equal(dtypes[i], dump.GetProperty("/" + types[i]).GetProperty("dtype").GetString());
        string Values(string name) => dump.GetProperty("/" + name).GetProperty("values").GetRawText();
        Assert.Equal("[true, false, true]", Values("Bool"));
        Assert.Equal("[-128, 0, 127]", Values("Int8"));
        Assert.Equal("[0, 128, 255]", Values("UInt8"));
        Assert.Equal("[-32768, 0, 32767]", Values("Int16"));
        Assert.Equal("[0, 1, 65535]", Values("UInt16"));
        Assert.Equal("[-2147483648, 0, 2147483647]", Values("Int32"));
        Assert.Equal("[0, 1, 4294967295]", Values("UInt32"));
        Assert.Equal("[-9223372036854775808, 0, 9223372036854775807]", Values("Int64"));
        Assert.Equal("[0, 1, 9223372036854775808]", Values("UInt64"));
        Assert.Equal("[-0.5, 1024.0, 3.140625]", Values("Float16"));
        Assert.Equal(new[] { (double)float.MinValue, (double)1e-30f, 3.5 },
            dump.GetProperty("/Float32").GetProperty("values").EnumerateArray().Select(e => e.GetDouble()));
        Assert.Equal(new[] { double.MaxValue, -1e-300, 2.5 },
            dump.GetProperty("/Float64").GetProperty("values").EnumerateArray().Select(e => e.GetDouble()));
        var attrs = dump.GetProperty("/").GetProperty("attrs");
        Assert.Equal(20, attrs.EnumerateObject().Count());
        Assert.Equal(19, attrs.GetProperty("attr19").GetProperty("v").GetInt64());
    }

    [Slow]
    [SkippableFact]
    public void H5py_can_patch_our_file_in_place_and_we_read_the_patch()
    {
        // The file is ordinary HDF5: libhdf5 may open it read-write and modify a dataset in place.
        H5py.RequireInterpreter();
        using var dir = new TempDir();
        var path = dir.File("patch.h5");
        var spec = new Hdf5FileSpec();
        spec.Root.AddDataset("processed_chunks", H5ElementType.Bool, 4);
        spec.Root.AddDataset("x", H5ElementType.Float32, 2, 2);
        Hdf5ContiguousFile.Create(path, spec);
        H5py.Run("""
            import sys, h5py
            with h5py.File(sys.argv[1], "r+") as f:
                f["processed_chunks"][2] = True
                f["x"][1, :] = [7.0, 8.0]
            """, path);
        using var reader = Hdf5MappedReader.Open(path);
        Assert.Equal(new[] { false, false, true, false }, reader.Elements<bool>("processed_chunks", 0, 4).ToArray());
        Assert.Equal(new[] { 0f, 0f, 7f, 8f }, reader.Elements<float>("x", 0, 4).ToArray());
    }

    private static void AssertAttr(JsonElement attrs, string name, string pyType, object value)
    {
        var a = attrs.GetProperty(name);
        Assert.Equal(pyType, a.GetProperty("py").GetString());
        var v = a.GetProperty("v");
        switch (value)
        {
            case string s: Assert.Equal(s, v.GetString()); break;
            case int i: Assert.Equal(i, v.GetInt64()); break;
            case double d: Assert.Equal(d, v.GetDouble()); break;
            case bool b: Assert.Equal(b, v.GetBoolean()); break;
        }
    }

    private static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
