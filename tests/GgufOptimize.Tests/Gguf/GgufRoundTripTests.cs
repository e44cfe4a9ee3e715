using GgufOptimize.Common;
using System.Buffers.Binary;
using GgufOptimize.Gguf;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Gguf;

public class GgufRoundTripTests
{
    private static GgufMetadata EveryValueType()
    {
        var m = new GgufMetadata();
        m.Set("t.u8", GgufValue.UInt8(250));
        m.Set("t.i8", GgufValue.Int8(-120));
        m.Set("t.u16", GgufValue.UInt16(65000));
        m.Set("t.i16", GgufValue.Int16(-32000));
        m.Set("t.u32", GgufValue.UInt32(4_000_000_000));
        m.Set("t.i32", GgufValue.Int32(-2_000_000_000));
        m.Set("t.f32", GgufValue.Float32(3.25f));
        m.Set("t.bool.true", GgufValue.Bool(true));
        m.Set("t.bool.false", GgufValue.Bool(false));
        m.Set("t.str", GgufValue.String("héllo ▁wörld 🙂"));
        m.Set("t.str.empty", GgufValue.String(""));
        m.Set("t.u64", GgufValue.UInt64(ulong.MaxValue));
        m.Set("t.i64", GgufValue.Int64(long.MinValue));
        m.Set("t.f64", GgufValue.Float64(-1.0e300));
        m.Set("a.u8", GgufValue.Array(new byte[] { 1, 2, 255 }));
        m.Set("a.i8", GgufValue.Array(new sbyte[] { -1, 0, 127 }));
        m.Set("a.u16", GgufValue.Array(new ushort[] { 1, 65535 }));
        m.Set("a.i16", GgufValue.Array(new short[] { -5, 5 }));
        m.Set("a.u32", GgufValue.Array(new uint[] { 7, uint.MaxValue }));
        m.Set("a.i32", GgufValue.Array(new[] { -7, 1, 6 }));
        m.Set("a.f32", GgufValue.Array(new[] { 0.5f, float.NegativeInfinity, -0f }));
        m.Set("a.bool", GgufValue.Array(new[] { true, false, true }));
        m.Set("a.u64", GgufValue.Array(new ulong[] { 0, ulong.MaxValue }));
        m.Set("a.i64", GgufValue.Array(new long[] { long.MinValue, 3 }));
        m.Set("a.f64", GgufValue.Array(new[] { Math.PI, double.Epsilon }));
        m.Set("a.str", GgufValue.Array(new[] { "<unk>", "", "▁the", "日本語" }));
        m.Set("a.empty", GgufValue.Array(Array.Empty<int>()));
        m.Set("a.nested", GgufValue.Array(new[]
        {
            GgufValue.Array(new[] { 1, 2 }),
            GgufValue.Array(new[] { "x", "y", "z" }),
            GgufValue.Array(new[] { GgufValue.Array(new[] { 1.5f }) }),
        }));
        return m;
    }

    [Fact]
    public void Every_metadata_type_and_array_round_trips()
    {
        using var dir = new TempDir();
        var writer = new GgufWriter(EveryValueType());
        writer.Write(dir.File("meta.gguf"));

        var file = GgufFile.Read(dir.File("meta.gguf"));
        Assert.Equal(3, file.Version);
        var expected = EveryValueType();
        Assert.Equal(expected.Keys, file.Metadata.Keys);
        foreach (var (key, value) in expected)
            Assert.True(value.Equals(file.Metadata[key]), $"{key}: wrote {value}, read {file.Metadata[key]}");
        Assert.Equal("héllo ▁wörld 🙂", file.Metadata.GetString("t.str"));
        Assert.Equal(-2_000_000_000, file.Metadata.GetInteger("t.i32"));
        Assert.Equal(new[] { "<unk>", "", "▁the", "日本語" }, file.Metadata["a.str"].AsStringArray());
        Assert.Equal(new[] { 0.5f, float.NegativeInfinity, -0f }, file.Metadata["a.f32"].AsSpan<float>().ToArray());
        var nested = file.Metadata["a.nested"].AsArrayOfArrays();
        Assert.Equal(new[] { "x", "y", "z" }, nested[1].AsStringArray());
        Assert.Equal(1.5f, nested[2].AsArrayOfArrays()[0].AsSpan<float>()[0]);
        Assert.Empty(file.Tensors);
    }

    [Fact]
    public void Different_values_are_not_equal()
    {
        Assert.False(GgufValue.Int32(1).Equals(GgufValue.UInt32(1)));
        Assert.False(GgufValue.Array(new[] { 1, 2 }).Equals(GgufValue.Array(new[] { 1, 3 })));
        Assert.False(GgufValue.Array(new[] { "a" }).Equals(GgufValue.Array(new[] { "b" })));
        Assert.True(GgufValue.Array(new[] { "a" }).Equals(GgufValue.Array(new[] { "a" })));
    }

    [Theory]
    [InlineData(32u)]
    [InlineData(64u)]
    [InlineData(256u)]
    public void Tensor_data_is_byte_exact_and_aligned(uint alignment)
    {
        using var dir = new TempDir();
        var rng = new Random(5);
        var writer = new GgufWriter();
        if (alignment != GgufFormat.DefaultAlignment) writer.Metadata.Set(GgufKeys.Alignment, GgufValue.UInt32(alignment));
        writer.Metadata.Set("odd.length.key", GgufValue.String("xyz")); // makes the header length odd
        var f32 = Enumerable.Range(0, 7 * 3).Select(i => (float)rng.NextDouble()).ToArray();
        var q4 = new byte[GgmlTypes.TensorBytes(GgmlType.Q4_K, [256, 2])];
        rng.NextBytes(q4);
        var f16 = new byte[2 * 5];
        rng.NextBytes(f16);
        var i8 = new byte[3];
        rng.NextBytes(i8);
        writer.AddTensor("a", [7, 3], f32);
        writer.AddTensor("odd", GgmlType.I8, [3], i8);
        writer.AddTensor("q", GgmlType.Q4_K, [256, 2], q4);
        writer.AddTensor("h", GgmlType.F16, [5], f16);
        writer.Write(dir.File("t.gguf"));

        var file = GgufFile.Read(dir.File("t.gguf"));
        Assert.Equal(alignment, file.Alignment);
        Assert.Equal(0, file.DataOffset % alignment);
        Assert.Equal(["a", "odd", "q", "h"], file.Tensors.Select(t => t.Name));
        foreach (var t in file.Tensors) Assert.Equal(0, t.Offset % alignment);
        Assert.Equal(f32, file.ReadTensorFloats(file.Tensor("a")));
        Assert.Equal(i8, file.ReadTensorBytes(file.Tensor("odd")));
        Assert.Equal(q4, file.ReadTensorBytes(file.Tensor("q")));
        Assert.Equal(f16, file.ReadTensorBytes(file.Tensor("h")));
        Assert.Equal(GgmlType.Q4_K, file.Tensor("q").Type);
        Assert.Equal(new long[] { 256, 2 }, file.Tensor("q").Dimensions);
        Assert.Equal(288, file.Tensor("q").ByteSize);
        // The data section ends with the last tensor padded to the alignment.
        Assert.Equal(file.DataOffset + file.Tensor("h").Offset + GgufFormat.Align(10, alignment), file.FileLength);
        Assert.False(File.Exists(dir.File("t.gguf.partial")));
    }

    [Fact]
    public void F16_and_BF16_tensors_read_as_floats()
    {
        using var dir = new TempDir();
        float[] values = [0f, 1f, -2.5f, 0.333251953125f, 65504f, -1e-3f];
        var half = new ushort[values.Length];
        HalfConversion.F32ToF16(values, half);
        var bf = new ushort[values.Length];
        HalfConversion.F32ToBF16(values, bf);
        var writer = new GgufWriter();
        writer.AddTensor("h", GgmlType.F16, [values.Length], ToBytes(half));
        writer.AddTensor("b", GgmlType.BF16, [values.Length], ToBytes(bf));
        writer.AddTensor("q", GgmlType.Q8_0, [32], new byte[34]);
        writer.Write(dir.File("h.gguf"));
        var file = GgufFile.Read(dir.File("h.gguf"));
        var h = file.ReadTensorFloats(file.Tensor("h"));
        var b = file.ReadTensorFloats(file.Tensor("b"));
        for (int i = 0; i < values.Length; i++)
        {
            Assert.Equal((float)(Half)values[i], h[i]);
            Assert.InRange(Math.Abs(b[i] - values[i]), 0, Math.Abs(values[i]) / 128 + 1e-9);
        }
        Assert.Equal(1f, b[1]);
        var e = Assert.Throws<GgufOptimize.Common.GgufOptimizeException>(() => file.ReadTensorFloats(file.Tensor("q")));
        Assert.Contains("Q8_0", e.Message);
    }

    [Fact]
    public void Streaming_callback_must_write_exactly_the_tensor_size()
    {
        using var dir = new TempDir();
        var writer = new GgufWriter();
        writer.AddTensor("short", GgmlType.F32, [4], s => s.Write(new byte[12]));
        Assert.Throws<InvalidOperationException>(() => writer.Write(dir.File("bad.gguf")));
        Assert.False(File.Exists(dir.File("bad.gguf")));
        Assert.False(File.Exists(dir.File("bad.gguf.partial")));
    }

    [Fact]
    public void Rows_must_be_whole_blocks()
    {
        var writer = new GgufWriter();
        Assert.Throws<ArgumentException>(() => writer.AddTensor("x", GgmlType.Q4_0, [48, 2], _ => { }));
        Assert.Throws<ArgumentException>(() => writer.AddTensor(new string('n', 64), GgmlType.F32, [1], _ => { }));
    }

    [Fact]
    public void Copy_adds_and_replaces_keys_and_keeps_tensors_and_order()
    {
        using var dir = new TempDir();
        var original = new GgufWriter(EveryValueType());
        var data = Enumerable.Range(0, 64).Select(i => (float)i).ToArray();
        original.AddTensor("w", [32, 2], data);
        original.Write(dir.File("src.gguf"));

        var source = GgufFile.Read(dir.File("src.gguf"));
        var copy = GgufWriter.CopyOf(source);
        copy.Metadata.Set("t.str", GgufValue.String("replaced"));
        copy.Metadata.Set("provenance.tool", GgufValue.String("gguf-optimize"));
        copy.Write(dir.File("copy.gguf"));

        var read = GgufFile.Read(dir.File("copy.gguf"));
        Assert.Equal(source.Metadata.Keys.Append("provenance.tool"), read.Metadata.Keys);
        Assert.Equal("replaced", read.Metadata.GetString("t.str"));
        Assert.Equal("gguf-optimize", read.Metadata.GetString("provenance.tool"));
        Assert.True(source.Metadata["a.nested"].Equals(read.Metadata["a.nested"]));
        Assert.Equal(data, read.ReadTensorFloats(read.Tensor("w")));

        // Copy without changes reproduces the file byte for byte.
        GgufWriter.CopyOf(source).Write(dir.File("same.gguf"));
        Assert.Equal(File.ReadAllBytes(dir.File("src.gguf")), File.ReadAllBytes(dir.File("same.gguf")));
    }

    [Fact]
    public void Header_layout_matches_the_gguf_spec()
    {
        using var dir = new TempDir();
        var writer = new GgufWriter();
        writer.Metadata.Set("k", GgufValue.UInt32(7));
        writer.AddTensor("t", [1], [1f]);
        writer.Write(dir.File("x.gguf"));
        var bytes = File.ReadAllBytes(dir.File("x.gguf"));
        Assert.Equal("GGUF"u8.ToArray(), bytes[..4]);
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(1ul, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8)));  // tensors
        Assert.Equal(1ul, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(16))); // kv pairs
        Assert.Equal(1ul, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(24))); // key length
        Assert.Equal((byte)'k', bytes[32]);
        Assert.Equal(4u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(33)));  // uint32 type
        Assert.Equal(7u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(37)));
    }

    private static byte[] ToBytes(ushort[] v) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()).ToArray();
}
