using GgufOptimize.Storage.Hdf5;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Storage.Hdf5;

/// <summary>
/// Large writes bypass the page cache (O_DIRECT) for their aligned middle; whatever the offsets, the file holds exactly
/// the bytes written, and on a file system that refuses O_DIRECT the normal path writes them.
/// </summary>
public class DirectWritesTests
{
    private static (string Path, Hdf5Layout Layout) Create(string dir, int rows, int vocab)
    {
        string path = System.IO.Path.Combine(dir, "f.h5");
        var spec = new Hdf5FileSpec();
        spec.Root.AddDataset("flags", H5ElementType.Bool, 3);
        spec.Root.AddDataset("logits", H5ElementType.Float32, rows, vocab);
        return (path, Hdf5ContiguousFile.Create(path, spec));
    }

    private static float[] Rows(int first, int count, int vocab) =>
        Enumerable.Range(first * vocab, count * vocab).Select(i => (float)i * 0.5f).ToArray();

    /// <summary>Rows of an odd vocabulary, so every write starts and ends off a block boundary; some too small to go direct.</summary>
    private static void WriteAndCheck(string dir, bool expectDirect)
    {
        const int vocab = 1001, rows = 700;
        var (path, layout) = Create(dir, rows, vocab);
        var logits = layout.Dataset("logits");
        using (var writer = Hdf5DataWriter.Open(path))
        {
            Assert.Equal(expectDirect, writer.WritesDirectly);
            int[] splits = [0, 3, 300, 301, 650, rows];
            // Written out of order: later slices first.
            for (int s = splits.Length - 2; s >= 0; s--)
                writer.Write(logits, (long)splits[s] * vocab, (ReadOnlySpan<float>)Rows(splits[s], splits[s + 1] - splits[s], vocab));
            writer.Write(layout.Dataset("flags"), 1, (ReadOnlySpan<byte>)[1]);
            writer.Flush();
            Assert.Equal(expectDirect, writer.WritesDirectly);
        }
        using var reader = Hdf5MappedReader.Open(path);
        Assert.True(reader.Elements<float>(logits, 0, rows * vocab).SequenceEqual(Rows(0, rows, vocab)));
        Assert.Equal([0, 1, 0], reader.Elements<byte>(layout.Dataset("flags"), 0, 3).ToArray());
    }

    [SkippableFact]
    public void Unaligned_large_writes_land_byte_for_byte_on_a_disk_file_system()
    {
        using var dir = new TempDir();
        bool ext4 = new DriveInfo(dir.Path).DriveFormat is "ext4" or "xfs" or "btrfs";
        Skip.IfNot(OperatingSystem.IsLinux() && ext4, $"needs Linux on ext4/xfs/btrfs for O_DIRECT; the temp folder is on {new DriveInfo(dir.Path).DriveFormat}");
        WriteAndCheck(dir.Path, expectDirect: true);
    }

    [SkippableFact]
    public void Pinned_buffers_in_phase_with_the_file_write_their_bytes_without_staging_and_out_of_phase_ones_through_it()
    {
        using var dir = new TempDir();
        bool ext4 = new DriveInfo(dir.Path).DriveFormat is "ext4" or "xfs" or "btrfs";
        Skip.IfNot(OperatingSystem.IsLinux() && ext4, $"needs Linux on ext4/xfs/btrfs for O_DIRECT; the temp folder is on {new DriveInfo(dir.Path).DriveFormat}");
        const int vocab = 1001, rows = 700;
        var (path, layout) = Create(dir.Path, rows, vocab);
        var logits = layout.Dataset("logits");
        int[] splits = [0, 3, 300, 301, 650, rows];
        using (var writer = Hdf5DataWriter.Open(path))
        {
            for (int s = 0; s < splits.Length - 1; s++)
            {
                var floats = Rows(splits[s], splits[s + 1] - splits[s], vocab);
                int length = floats.Length * sizeof(float);
                long byteOffset = (long)splits[s] * vocab * sizeof(float);
                var buffer = new PinnedBuffer(length + 8);
                // Even slices sit in phase with their file position, odd ones a few bytes off it.
                int start = buffer.StartFor(logits.Offset + byteOffset);
                if (s % 2 == 1) start = (start + 4) % PinnedBuffer.Block;
                Assert.Equal(s % 2 == 0, buffer.InPhase(start, logits.Offset + byteOffset));
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(floats.AsSpan()).CopyTo(buffer.Span(start, length));
                writer.WriteBytes(logits, byteOffset, buffer, start, length);
            }
            writer.Flush();
            Assert.True(writer.WritesDirectly);
        }
        using var reader = Hdf5MappedReader.Open(path);
        Assert.True(reader.Elements<float>(logits, 0, rows * vocab).SequenceEqual(Rows(0, rows, vocab)));
    }

    [SkippableFact]
    public void On_tmpfs_the_normal_path_writes_the_same_bytes()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "tmpfs is Linux");
        using var tmpfs = new SmallTmpfs();
        Skip.IfNot(tmpfs.Mount("64M"), "cannot mount a tmpfs here (needs root)");
        // tmpfs refused O_DIRECT before Linux 6.6 and accepts it since; either way the bytes must be the same.
        const int vocab = 1001, rows = 700;
        var (path, _) = Create(tmpfs.Path, rows, vocab);
        bool direct;
        using (var w = Hdf5DataWriter.Open(path)) direct = w.WritesDirectly;
        File.Delete(path);
        WriteAndCheck(tmpfs.Path, expectDirect: direct);
    }
}
