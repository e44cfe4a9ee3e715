using GgufOptimize.Common;
using GgufOptimize.Storage.Hdf5;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Storage.Hdf5;

/// <summary>Bad files must give one BadInput error naming the file — never a crash, hang or wrong layout.</summary>
public class Hdf5CorruptFileTests
{
    [Fact]
    public void Missing_empty_and_non_hdf5_files_are_bad_input_naming_the_file()
    {
        using var dir = new TempDir();
        AssertBadInput(dir.File("missing.h5"), "does not exist");
        File.WriteAllBytes(dir.File("empty.h5"), []);
        AssertBadInput(dir.File("empty.h5"), "not an HDF5 file");
        File.WriteAllText(dir.File("text.h5"), new string('x', 5000));
        AssertBadInput(dir.File("text.h5"), "not an HDF5 file");
    }

    [Fact]
    public void Truncated_files_are_bad_input_naming_the_file()
    {
        using var dir = new TempDir();
        var path = dir.File("t.h5");
        var layout = Hdf5ContiguousFile.Create(path, SampleSpec());
        var bytes = File.ReadAllBytes(path);
        foreach (int length in new[] { 8, 30, 47, 100, 300, 4096, (int)layout.Dataset("logits").Offset + 10, bytes.Length - 1 })
        {
            var cut = dir.File($"cut{length}.h5");
            File.WriteAllBytes(cut, bytes[..length]);
            AssertBadInput(cut, "corrupt or truncated");
        }
    }

    [Fact]
    public void Damaged_superblock_and_object_headers_fail_their_checksums()
    {
        using var dir = new TempDir();
        var path = dir.File("d.h5");
        Hdf5ContiguousFile.Create(path, SampleSpec());
        var bytes = File.ReadAllBytes(path);
        var superblock = (byte[])bytes.Clone();
        superblock[40] ^= 0x01; // root group address
        File.WriteAllBytes(path, superblock);
        AssertBadInput(path, "superblock fails its checksum");

        var header = (byte[])bytes.Clone();
        header[48 + 20] ^= 0x40; // inside the root group's object header (past its size field)
        File.WriteAllBytes(path, header);
        AssertBadInput(path, "fails its checksum");
    }

    [Fact]
    public void Random_byte_damage_in_metadata_never_escapes_as_anything_but_bad_input()
    {
        using var dir = new TempDir();
        var path = dir.File("fuzz.h5");
        var layout = Hdf5ContiguousFile.Create(path, SampleSpec());
        var pristine = File.ReadAllBytes(path);
        int metadataEnd = (int)layout.Datasets.Min(d => d.Offset);
        FuzzMetadata(path, pristine, metadataEnd, iterations: 400);
    }

    [Slow]
    [SkippableFact]
    public void Random_byte_damage_in_an_h5py_file_without_checksums_never_escapes_as_anything_but_bad_input()
    {
        // h5py's default format (superblock v0, symbol tables) has no checksums, so damage reaches every parser.
        using var dir = new TempDir();
        var path = dir.File("h5py.h5");
        H5py.Run("""
            import sys, h5py, numpy as np
            with h5py.File(sys.argv[1], "w") as f:
                f.attrs["format"] = "x"
                f.attrs["n"] = np.int64(3)
                f.attrs["fixed"] = np.bytes_(b"abc")
                f.create_dataset("a", data=np.arange(6, dtype="<f4").reshape(2, 3))
                g = f.create_group("g")
                g.create_dataset("b", data=np.array([True, False]))
                g.attrs["v"] = [1.0, 2.0]
                many = f.create_group("many")  # enough members for a two-level B-tree
                for i in range(300): many.create_dataset("c%03d" % i, data=np.array([i], dtype="<i2"))
                for i in range(12): g["b"].attrs["late%02d" % i] = "v" * 40  # continuation blocks
            """, path);
        var pristine = File.ReadAllBytes(path);
        FuzzMetadata(path, pristine, Math.Min(pristine.Length, 1 << 20), iterations: 250);
    }

    private static void FuzzMetadata(string path, byte[] pristine, int metadataEnd, int iterations)
    {
        var random = new Random(1234);
        int opened = 0;
        for (int i = 0; i < iterations; i++)
        {
            var damaged = (byte[])pristine.Clone();
            int flips = 1 + random.Next(3);
            for (int f = 0; f < flips; f++) damaged[random.Next(metadataEnd)] = (byte)random.Next(256);
            File.WriteAllBytes(path, damaged);
            try
            {
                Hdf5ContiguousFile.Open(path);
                opened++;
            }
            catch (GgufOptimizeException e)
            {
                Assert.Equal(FailureKind.BadInput, e.Kind);
                Assert.Contains(path, e.Message);
                Assert.DoesNotContain('\n', e.Message);
            }
        }
        Assert.True(opened < iterations, "damage was never detected");
    }

    [Fact]
    public void Writer_refuses_a_file_whose_size_changed_since_its_layout_was_read()
    {
        using var dir = new TempDir();
        var path = dir.File("s.h5");
        var layout = Hdf5ContiguousFile.Create(path, SampleSpec());
        using (var stream = new FileStream(path, FileMode.Open)) stream.SetLength(stream.Length + 1);
        var e = Assert.Throws<GgufOptimizeException>(() => Hdf5DataWriter.Open(layout));
        Assert.Contains(path, e.Message);
    }

    private static Hdf5FileSpec SampleSpec()
    {
        var spec = new Hdf5FileSpec();
        spec.Root.SetAttribute("format", "test");
        spec.Root.SetAttribute("names", new[] { "a", "b" });
        spec.Root.SetAttribute("n", 3L);
        spec.Root.AddDataset("processed_chunks", H5ElementType.Bool, 3);
        spec.Root.AddGroup("g").AddDataset("x", H5ElementType.Int64, 2).SetAttribute("unit", "u");
        spec.Root.AddDataset("logits", H5ElementType.Float16, 3, 5);
        return spec;
    }

    private static void AssertBadInput(string path, string fragment)
    {
        var e = Assert.Throws<GgufOptimizeException>(() => Hdf5ContiguousFile.Open(path));
        Assert.Equal(FailureKind.BadInput, e.Kind);
        Assert.Contains(path, e.Message);
        Assert.Contains(fragment, e.Message);
    }
}
