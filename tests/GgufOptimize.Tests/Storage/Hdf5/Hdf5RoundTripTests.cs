using System.Runtime.InteropServices;
using GgufOptimize.Common;
using GgufOptimize.Storage.Hdf5;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Storage.Hdf5;

public class Hdf5RoundTripTests
{
    [Fact]
    public void Every_element_type_round_trips_through_writer_open_and_mapped_reader()
    {
        using var dir = new TempDir();
        var path = dir.File("types.h5");
        var spec = new Hdf5FileSpec();
        foreach (var type in Enum.GetValues<H5ElementType>())
            spec.Root.AddDataset(type.ToString(), type, 2, 3);
        var layout = Hdf5ContiguousFile.Create(path, spec);

        using (var writer = Hdf5DataWriter.Open(path))
        {
            writer.Write<bool>("Bool", 0, [true, false, true, true, false, true]);
            writer.Write<sbyte>("Int8", 0, [-128, -1, 0, 1, 2, 127]);
            writer.Write<byte>("UInt8", 0, [0, 1, 2, 3, 254, 255]);
            writer.Write<short>("Int16", 0, [short.MinValue, -1, 0, 1, 2, short.MaxValue]);
            writer.Write<ushort>("UInt16", 0, [0, 1, 2, 3, 4, ushort.MaxValue]);
            writer.Write<int>("Int32", 0, [int.MinValue, -1, 0, 1, 2, int.MaxValue]);
            writer.Write<uint>("UInt32", 0, [0, 1, 2, 3, 4, uint.MaxValue]);
            writer.Write<long>("Int64", 0, [long.MinValue, -1, 0, 1, 2, long.MaxValue]);
            writer.Write<ulong>("UInt64", 0, [0, 1, 2, 3, 4, ulong.MaxValue]);
            writer.Write<Half>("Float16", 0, [Half.MinValue, (Half)(-1), Half.Zero, Half.Epsilon, (Half)0.333, Half.MaxValue]);
            writer.Write<float>("Float32", 0, [float.MinValue, -1, 0, float.Epsilon, 0.333f, float.MaxValue]);
            writer.Write<double>("Float64", 0, [double.MinValue, -1, 0, double.Epsilon, 0.333, double.MaxValue]);
        }

        var opened = Hdf5ContiguousFile.Open(path);
        foreach (var type in Enum.GetValues<H5ElementType>())
        {
            var created = layout.Dataset(type.ToString());
            var found = opened.Dataset("/" + type);
            Assert.Equal(type, found.Type);
            Assert.Equal(new long[] { 2, 3 }, found.Shape);
            Assert.Equal(created.Offset, found.Offset);
            Assert.Equal(6 * type.Size(), found.ByteLength);
            Assert.Equal(0, found.Offset % 4096);
            Assert.Equal(3, found.RowElements);
            Assert.Equal(2, found.Rows);
        }

        using var reader = Hdf5MappedReader.Open(opened);
        Assert.Equal(new[] { true, false, true, true, false, true }, reader.Elements<bool>("Bool", 0, 6).ToArray());
        Assert.Equal(new sbyte[] { -128, -1, 0, 1, 2, 127 }, reader.Elements<sbyte>("Int8", 0, 6).ToArray());
        Assert.Equal(new byte[] { 0, 1, 2, 3, 254, 255 }, reader.Elements<byte>("UInt8", 0, 6).ToArray());
        Assert.Equal(new short[] { short.MinValue, -1, 0, 1, 2, short.MaxValue }, reader.Elements<short>("Int16", 0, 6).ToArray());
        Assert.Equal(new ushort[] { 0, 1, 2, 3, 4, ushort.MaxValue }, reader.Elements<ushort>("UInt16", 0, 6).ToArray());
        Assert.Equal(new[] { int.MinValue, -1, 0, 1, 2, int.MaxValue }, reader.Elements<int>("Int32", 0, 6).ToArray());
        Assert.Equal(new uint[] { 0, 1, 2, 3, 4, uint.MaxValue }, reader.Elements<uint>("UInt32", 0, 6).ToArray());
        Assert.Equal(new[] { long.MinValue, -1, 0, 1, 2, long.MaxValue }, reader.Elements<long>("Int64", 0, 6).ToArray());
        Assert.Equal(new ulong[] { 0, 1, 2, 3, 4, ulong.MaxValue }, reader.Elements<ulong>("UInt64", 0, 6).ToArray());
        Assert.Equal(new[] { Half.MinValue, (Half)(-1), Half.Zero, Half.Epsilon, (Half)0.333, Half.MaxValue }, reader.Elements<Half>("Float16", 0, 6).ToArray());
        Assert.Equal(new[] { float.MinValue, -1, 0, float.Epsilon, 0.333f, float.MaxValue }, reader.Elements<float>("Float32", 0, 6).ToArray());
        Assert.Equal(new[] { double.MinValue, -1, 0, double.Epsilon, 0.333, double.MaxValue }, reader.Rows<double>(opened.Dataset("Float64"), 0, 2).ToArray());
        Assert.Equal(new[] { double.Epsilon, 0.333, double.MaxValue }, reader.Rows<double>(opened.Dataset("Float64"), 1, 1).ToArray());
    }

    [Fact]
    public void Attributes_groups_and_initial_data_round_trip_through_open()
    {
        using var dir = new TempDir();
        var path = dir.File("attrs.h5");
        var spec = new Hdf5FileSpec();
        spec.Root.SetAttribute("s", "héllo");
        spec.Root.SetAttribute("l", -42L);
        spec.Root.SetAttribute("d", 1.25);
        spec.Root.SetAttribute("b", true);
        spec.Root.SetAttribute("la", new long[] { 1, 2, 3 });
        spec.Root.SetAttribute("da", new[] { 0.5 });
        spec.Root.SetAttribute("sa", new[] { "p", "", "q" });
        spec.Root.SetAttribute("empty", Array.Empty<long>());
        spec.Root.SetAttribute("l", 43L); // replaces, keeps position
        var stats = spec.Root.AddGroup("stats");
        var chunk = stats.AddGroup("chunk_0");
        chunk.SetAttribute("kl_median", 0.01);
        var flags = chunk.AddDataset("flags", H5ElementType.Bool, 3);
        flags.SetInitialData(new[] { false, true, true });
        flags.SetAttribute("note", new string('n', 100_000)); // lives in the global heap, not the header

        Hdf5ContiguousFile.Create(path, spec);
        var layout = Hdf5ContiguousFile.Open(path);

        Assert.Equal(new[] { "/", "/stats", "/stats/chunk_0" }, layout.Groups.Select(g => g.Path));
        Assert.Equal(new[] { "s", "l", "d", "b", "la", "da", "sa", "empty" }, layout.Root.Attributes.Keys);
        Assert.Equal("héllo", layout.Root.Attribute<string>("s"));
        Assert.Equal(43L, layout.Root.Attribute<long>("l"));
        Assert.Equal(1.25, layout.Root.Attribute<double>("d"));
        Assert.True(layout.Root.Attribute<bool>("b"));
        Assert.Equal(new long[] { 1, 2, 3 }, layout.Root.Attribute<long[]>("la"));
        Assert.Equal(new[] { 0.5 }, layout.Root.Attribute<double[]>("da"));
        Assert.Equal(new[] { "p", "", "q" }, layout.Root.Attribute<string[]>("sa"));
        Assert.Empty(layout.Root.Attribute<long[]>("empty"));
        Assert.Equal(new[] { "stats" }, layout.Root.Members);
        Assert.Equal(0.01, layout.Group("stats/chunk_0").Attribute<double>("kl_median"));
        var ds = layout.Dataset("/stats/chunk_0/flags");
        Assert.Equal(100_000, ds.Attribute<string>("note").Length);
        using var reader = Hdf5MappedReader.Open(layout);
        Assert.Equal(new[] { false, true, true }, reader.Elements<bool>(ds, 0, 3).ToArray());

        var missing = Assert.Throws<GgufOptimizeException>(() => layout.Root.Attribute<string>("nope"));
        Assert.Contains(path, missing.Message);
        var wrongType = Assert.Throws<GgufOptimizeException>(() => layout.Root.Attribute<string>("l"));
        Assert.Contains("expected String", wrongType.Message);
        Assert.Equal(FailureKind.BadInput, Assert.Throws<GgufOptimizeException>(() => layout.Dataset("logits")).Kind);
    }

    [Slow]
    [Fact]
    public void Large_dataset_written_in_random_chunk_order_from_several_threads_reads_back_exactly()
    {
        const int chunks = 50, rowsPerChunk = 1000, vocab = 1000; // 200 MB of float32
        using var dir = new TempDir();
        var path = dir.File("big.h5");
        var spec = new Hdf5FileSpec();
        spec.Root.AddDataset("processed_chunks", H5ElementType.Bool, chunks);
        spec.Root.AddDataset("logits", H5ElementType.Float32, chunks, rowsPerChunk, vocab);
        var layout = Hdf5ContiguousFile.Create(path, spec);
        var logits = layout.Dataset("logits");
        Assert.Equal(200_000_000L, logits.ByteLength);

        var order = Enumerable.Range(0, chunks).ToArray();
        new Random(7).Shuffle(order);
        var written = order.Take(chunks - 3).ToArray(); // three chunks stay unwritten (zero)
        using (var writer = Hdf5DataWriter.Open(layout))
        {
            Parallel.ForEach(written, new ParallelOptions { MaxDegreeOfParallelism = 2 }, c =>
            {
                var data = Chunk(c, rowsPerChunk * vocab);
                writer.WriteRows<float>(logits, c, data);
            });
            writer.Flush();
            foreach (var c in written) writer.Write<bool>("processed_chunks", c, [true]);
        }

        using var reader = Hdf5MappedReader.Open(path);
        var flags = reader.Elements<bool>("processed_chunks", 0, chunks);
        for (int c = 0; c < chunks; c++)
        {
            bool isWritten = written.Contains(c);
            Assert.Equal(isWritten, flags[c]);
            var actual = reader.Rows<float>(reader.Layout.Dataset("logits"), c, 1);
            var expected = isWritten ? Chunk(c, rowsPerChunk * vocab) : new float[rowsPerChunk * vocab];
            Assert.True(actual.SequenceEqual(expected), $"chunk {c} differs");
        }
    }

    [Fact]
    public void Writer_and_reader_reject_wrong_element_types_and_out_of_range_slices()
    {
        using var dir = new TempDir();
        var path = dir.File("guard.h5");
        var spec = new Hdf5FileSpec();
        spec.Root.AddDataset("half", H5ElementType.Float16, 2, 4);
        Assert.Throws<ArgumentException>(() => spec.Root.AddDataset("half", H5ElementType.Float32, 1));
        Assert.Throws<ArgumentException>(() => spec.Root.AddDataset("a/b", H5ElementType.Float32, 1));
        Assert.Throws<ArgumentException>(() => spec.Root.AddDataset("neg", H5ElementType.Float32, -1));
        Assert.Throws<ArgumentException>(() => spec.Root.AddDataset("init", H5ElementType.Int64, 2).SetInitialData(new long[] { 1 }));
        var layout = Hdf5ContiguousFile.Create(path, spec);
        var half = layout.Dataset("half");
        using var writer = Hdf5DataWriter.Open(layout);
        Assert.Throws<ArgumentException>(() => writer.Write<float>(half, 0, [1f]));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Write<Half>(half, 7, [Half.One, Half.One]));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Write<Half>(half, -1, [Half.One]));
        Assert.Throws<ArgumentException>(() => writer.WriteRows<Half>(half, 0, [Half.One]));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.WriteRows<Half>(half, 2, new Half[4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.WriteBytes(half, 15, [1, 2]));
        using var reader = Hdf5MappedReader.Open(layout);
        Assert.Throws<ArgumentException>(() => reader.Elements<short>(half, 0, 1).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.Rows<Half>(half, 1, 2).ToArray());
        Assert.Equal(5, half.ElementIndex(1, 1));
        Assert.Equal(4, half.ElementIndex(1));
    }

    [Fact]
    public void Create_is_atomic_refuses_to_overwrite_and_can_reserve_disk_space()
    {
        using var dir = new TempDir();
        var path = dir.File("x.h5");
        var spec = new Hdf5FileSpec();
        spec.Root.AddDataset("v", H5ElementType.Float32, 1 << 20);
        Hdf5ContiguousFile.Create(path, spec);
        var again = Assert.Throws<GgufOptimizeException>(() => Hdf5ContiguousFile.Create(path, spec));
        Assert.Equal(FailureKind.BadInput, again.Kind);
        Assert.Contains(path, again.Message);

        var layout = Hdf5ContiguousFile.Create(path, spec, new Hdf5CreateOptions { Overwrite = true, ReserveDiskSpace = true, DataAlignment = 1 << 16 });
        Assert.Equal(0, layout.Dataset("v").Offset % (1 << 16));
        Assert.Equal(layout.Dataset("v").Offset + (4L << 20), new FileInfo(path).Length);
        Assert.Equal(new[] { "x.h5" }, Directory.GetFiles(dir.Path).Select(Path.GetFileName));
        using var reader = Hdf5MappedReader.Open(layout);
        Assert.True(reader.Elements<float>("v", 0, 1 << 20).IndexOfAnyExcept(0f) < 0);
    }

    [Fact]
    public void Create_reports_a_missing_directory_a_full_disk_and_oversized_header_messages_clearly()
    {
        using var dir = new TempDir();
        var spec = new Hdf5FileSpec();
        spec.Root.AddDataset("v", H5ElementType.Float32, 4);
        var e = Assert.Throws<GgufOptimizeException>(() => Hdf5ContiguousFile.Create(dir.File("no/such/dir/x.h5"), spec));
        Assert.Equal(FailureKind.BadInput, e.Kind);
        Assert.Contains("directory does not exist", e.Message);

        var huge = new Hdf5FileSpec();
        huge.Root.AddDataset("v", H5ElementType.Float64, 1L << 30, 1L << 20); // 8 PiB
        var full = Assert.Throws<GgufOptimizeException>(() => Hdf5ContiguousFile.Create(dir.File("huge.h5"), huge));
        Assert.Equal(FailureKind.Runtime, full.Kind);
        Assert.Contains("not enough free disk space", full.Message);

        // Numeric array attributes live in the object header, whose messages are limited to 64 KiB.
        spec.Root.SetAttribute("big", new double[10_000]);
        var big = Assert.Throws<ArgumentException>(() => Hdf5ContiguousFile.Create(dir.File("big.h5"), spec));
        Assert.Contains("attribute big of /", big.Message);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Mapped_reader_sees_writes_made_after_it_was_opened()
    {
        using var dir = new TempDir();
        var path = dir.File("live.h5");
        var spec = new Hdf5FileSpec();
        spec.Root.AddDataset("done", H5ElementType.Bool, 4);
        var layout = Hdf5ContiguousFile.Create(path, spec);
        using var reader = Hdf5MappedReader.Open(layout);
        using var writer = Hdf5DataWriter.Open(layout);
        Assert.False(reader.Elements<bool>("done", 2, 1)[0]);
        writer.Write<bool>("done", 2, [true]);
        Assert.True(reader.Elements<bool>("done", 2, 1)[0]);
    }

    private static float[] Chunk(int chunk, int count)
    {
        var data = new float[count];
        uint state = (uint)chunk * 2654435761u + 1;
        for (int i = 0; i < data.Length; i++)
        {
            state ^= state << 13; state ^= state >> 17; state ^= state << 5;
            data[i] = (state & 0xFFFFFF) / 65536f - 128f;
        }
        return data;
    }
}
