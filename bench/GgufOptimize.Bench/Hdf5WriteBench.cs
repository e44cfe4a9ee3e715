using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using GgufOptimize.Storage.Hdf5;
using PureHDF;

namespace GgufOptimize.Bench;

/// <summary>
/// Throughput of the contiguous HDF5 writer/reader against the disk (dd with fdatasync) and the page cache (plain
/// FileStream read), with PureHDF as the anchor. Arguments: --dir DIR (default: temp dir, same disk as /work here),
/// --mb N (float32 dataset size, default 2048, multiple of 128), --purehdf-mb N (default 512), --rounds N (default 3).
/// All files are deleted.
/// </summary>
public static class Hdf5WriteBench
{
    private const int ChunkMiB = 128;
    private const int NCtx = 512;
    private const int ChunkFloats = ChunkMiB * 1024 * 1024 / sizeof(float);
    private const int Vocab = ChunkFloats / NCtx;

    public static void Run(string[] args)
    {
        string root = Arg(args, "dir") ?? Path.GetTempPath();
        int totalMiB = int.Parse(Arg(args, "mb") ?? "2048", CultureInfo.InvariantCulture);
        int pureMiB = int.Parse(Arg(args, "purehdf-mb") ?? "512", CultureInfo.InvariantCulture);
        int rounds = int.Parse(Arg(args, "rounds") ?? "3", CultureInfo.InvariantCulture);
        if (totalMiB % ChunkMiB != 0 || pureMiB % ChunkMiB != 0)
            throw new ArgumentException($"--mb and --purehdf-mb must be multiples of {ChunkMiB}");
        var dir = Directory.CreateDirectory(Path.Combine(root, $"hdf5-bench-{Guid.NewGuid():N}")).FullName;
        Console.WriteLine($"hdf5 bench in {dir}: float32 [{totalMiB / ChunkMiB}, {NCtx}, {Vocab}] = {totalMiB} MiB; " +
                          $"{Environment.ProcessorCount} cores visible (other jobs may share them)");
        Console.WriteLine();
        Console.WriteLine("| case | MiB | seconds | MiB/s | relative |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        try
        {
            var chunk = Pseudorandom(ChunkFloats);
            // The disk is shared with other jobs: interleave dd and our writer and report medians.
            string big = Path.Combine(dir, "big.h5");
            string reserved = Path.Combine(dir, "big-reserved.h5");
            var dd = new List<double>();
            var ours = new List<double>();
            var oursReserved = new List<double>();
            for (int round = 0; round < rounds; round++)
            {
                dd.Add(DiskAnchor.DdWriteMBps(dir, totalMiB) / 1.048576); // MiB/s, like the rest of this table
                if (File.Exists(big)) File.Delete(big);
                ours.Add(WriteOurs(big, totalMiB / ChunkMiB, chunk, reserve: false));
                oursReserved.Add(WriteOurs(reserved, totalMiB / ChunkMiB, chunk, reserve: true));
                File.Delete(reserved);
            }
            dd.Add(DiskAnchor.DdWriteMBps(dir, totalMiB) / 1.048576); // MiB/s, like the rest of this table
            double ddMedian = Medians.Of(dd);
            Console.WriteLine($"| (write rounds: dd {Join(dd)}; ours {Join(ours)}; reserved {Join(oursReserved)} MiB/s) | | | | |");
            Row($"dd if=/dev/zero bs=1M conv=fdatasync, median of {dd.Count}", totalMiB, ddMedian, 1);
            Row($"Hdf5DataWriter, sparse file, random chunk order, + fsync, median of {rounds}", totalMiB, Medians.Of(ours), Medians.Of(ours) / ddMedian);
            Row($"Hdf5DataWriter, ReserveDiskSpace (fallocate), + fsync, median of {rounds}", totalMiB, Medians.Of(oursReserved), Medians.Of(oursReserved) / ddMedian);

            // Reads: the file was just written, so it is in the page cache; a warm-up pass confirms that,
            // then each variant is timed three times (median) because other jobs share the CPUs.
            ReadFileStream(big);
            double plain = Medians.Of(Repeat(() => ReadFileStream(big)));
            double mappedFresh = Medians.Of(Repeat(() => ReadMapped(big, passes: 1)));
            double mappedSame = Medians.Of(Repeat(() => ReadMapped(big, passes: 2)));
            double mappedCopy = Medians.Of(Repeat(() => ReadMappedCopy(big)));
            double pread = Medians.Of(Repeat(() => ReadPositional(big)));
            Row("read: FileStream sequential, 16 MiB buffer (page cache)", totalMiB, plain, 1);
            Row("read: Hdf5MappedReader.Rows<float> + sum, new mapping", totalMiB, mappedFresh, mappedFresh / plain);
            Row("read: Hdf5MappedReader.Rows<float> + sum, mapping reused", totalMiB, mappedSame, mappedSame / plain);
            Row("read: Hdf5MappedReader.Read<float> copy into buffer", totalMiB, mappedCopy, mappedCopy / plain);
            Row("read: RandomAccess.Read at layout offsets (pread)", totalMiB, pread, pread / plain);
            File.Delete(big);

            var pureData = new float[(long)pureMiB * 1024 * 1024 / sizeof(float)];
            for (int i = 0; i < pureData.Length; i += ChunkFloats) chunk.AsSpan().CopyTo(pureData.AsSpan(i));
            string pure = Path.Combine(dir, "purehdf.h5");
            string small = Path.Combine(dir, "ours-small.h5");
            var pureWrites = new List<double>();
            var oursSmall = new List<double>();
            for (int round = 0; round < rounds; round++)
            {
                foreach (var f in new[] { pure, small }) if (File.Exists(f)) File.Delete(f);
                pureWrites.Add(WritePureHdf(pure, pureData));
                oursSmall.Add(WriteOurs(small, pureMiB / ChunkMiB, chunk, reserve: false));
            }
            Row($"PureHDF 2.2.0 H5File.Write + fsync, median of {rounds}", pureMiB, Medians.Of(pureWrites), 1);
            Row($"Hdf5DataWriter, same size, median of {rounds}", pureMiB, Medians.Of(oursSmall), Medians.Of(oursSmall) / Medians.Of(pureWrites));
            ReadPureHdf(small);
            double pureRead = Medians.Of(Repeat(() => ReadPureHdf(small)));
            double oursSmallRead = Medians.Of(Repeat(() => ReadMappedCopy(small)));
            Row("read: PureHDF Dataset.Read<float[]> (page cache)", pureMiB, pureRead, 1);
            Row("read: Hdf5MappedReader.Read<float> copy, same file", pureMiB, oursSmallRead, oursSmallRead / pureRead);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static double WriteOurs(string path, int chunks, float[] chunk, bool reserve)
    {
        var clock = Stopwatch.StartNew();
        var spec = new Hdf5FileSpec();
        spec.Root.SetAttribute("n_ctx", (long)NCtx);
        spec.Root.AddDataset("processed_chunks", H5ElementType.Bool, chunks);
        spec.Root.AddDataset("logits", H5ElementType.Float32, chunks, NCtx, Vocab);
        var layout = Hdf5ContiguousFile.Create(path, spec, new Hdf5CreateOptions { ReserveDiskSpace = reserve });
        var order = Enumerable.Range(0, chunks).ToArray();
        new Random(1).Shuffle(order);
        using (var writer = Hdf5DataWriter.Open(layout))
        {
            var logits = layout.Dataset("logits");
            foreach (int c in order) writer.WriteRows<float>(logits, c, chunk);
            writer.Flush();
            foreach (int c in order) writer.Write<bool>("processed_chunks", c, [true]);
            writer.Flush();
        }
        return (double)chunks * ChunkMiB / clock.Elapsed.TotalSeconds;
    }

    private static double ReadFileStream(string path)
    {
        var buffer = new byte[16 << 20];
        var clock = Stopwatch.StartNew();
        long total = 0;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0))
        {
            int n;
            while ((n = stream.Read(buffer)) > 0) total += n;
        }
        return total / 1048576.0 / clock.Elapsed.TotalSeconds;
    }

    private static double ReadMapped(string path, int passes)
    {
        using var reader = Hdf5MappedReader.Open(path);
        var logits = reader.Layout.Dataset("logits");
        double seconds = 0;
        float checksum = 0;
        for (int pass = 0; pass < passes; pass++)
        {
            var clock = Stopwatch.StartNew();
            for (long c = 0; c < logits.Rows; c++) checksum += Sum(reader.Rows<float>(logits, c, 1));
            seconds = clock.Elapsed.TotalSeconds;
        }
        if (checksum == 0) throw new InvalidOperationException("mapped data read as zeros");
        return logits.ByteLength / 1048576.0 / seconds;
    }

    private static double ReadMappedCopy(string path)
    {
        var clock = Stopwatch.StartNew();
        using var reader = Hdf5MappedReader.Open(path);
        var logits = reader.Layout.Dataset("logits");
        var buffer = new float[logits.RowElements];
        for (long c = 0; c < logits.Rows; c++) reader.Read<float>(logits, c * logits.RowElements, buffer);
        return logits.ByteLength / 1048576.0 / clock.Elapsed.TotalSeconds;
    }

    private static double ReadPositional(string path)
    {
        var clock = Stopwatch.StartNew();
        var layout = Hdf5ContiguousFile.Open(path);
        var logits = layout.Dataset("logits");
        var buffer = new float[logits.RowElements];
        var bytes = MemoryMarshal.AsBytes(buffer.AsSpan());
        using var handle = File.OpenHandle(path);
        for (long c = 0; c < logits.Rows; c++)
        {
            long position = logits.Offset + c * bytes.Length;
            for (int done = 0; done < bytes.Length;)
                done += RandomAccess.Read(handle, bytes[done..], position + done);
        }
        return logits.ByteLength / 1048576.0 / clock.Elapsed.TotalSeconds;
    }

    private static double WritePureHdf(string path, float[] data)
    {
        var clock = Stopwatch.StartNew();
        var file = new H5File
        {
            ["logits"] = new H5Dataset(data, fileDims: [(ulong)(data.Length / ChunkFloats), NCtx, Vocab]),
        };
        file.Write(path);
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite)) stream.Flush(flushToDisk: true);
        return (double)data.Length * sizeof(float) / 1048576.0 / clock.Elapsed.TotalSeconds;
    }

    private static double ReadPureHdf(string path)
    {
        var clock = Stopwatch.StartNew();
        using var file = H5File.OpenRead(path);
        var data = file.Dataset("logits").Read<float[]>();
        return (double)data.Length * sizeof(float) / 1048576.0 / clock.Elapsed.TotalSeconds;
    }

    private static float Sum(ReadOnlySpan<float> values)
    {
        var acc = Vector<float>.Zero;
        var vectors = MemoryMarshal.Cast<float, Vector<float>>(values);
        foreach (var v in vectors) acc += v;
        float sum = Vector.Sum(acc);
        for (int i = vectors.Length * Vector<float>.Count; i < values.Length; i++) sum += values[i];
        return sum;
    }

    private static float[] Pseudorandom(int count)
    {
        var data = new float[count];
        uint state = 2463534242;
        for (int i = 0; i < data.Length; i++)
        {
            state ^= state << 13; state ^= state >> 17; state ^= state << 5;
            data[i] = (state & 0xFFFFFF) / 65536f - 128f;
        }
        return data;
    }

    private static List<double> Repeat(Func<double> measure) => [measure(), measure(), measure()];

    private static string Join(List<double> values) => string.Join(", ", values.Select(v => v.ToString("F0", CultureInfo.InvariantCulture)));

    private static void Row(string name, int mib, double mibPerSecond, double? relative) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {mib} | {mib / mibPerSecond:F2} | {mibPerSecond:F0} | {(relative is { } r ? $"{r * 100:F0} %" : "")} |"));

    private static string? Arg(string[] args, string key)
    {
        int i = Array.IndexOf(args, "--" + key);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
