using System.Text;
using GgufOptimize.Common;

namespace GgufOptimize.Imatrix;

/// <summary>
/// llama.cpp's legacy <c>.dat</c> imatrix: int32 entry count; per entry int32 name length, name, int32 ncall
/// (chunks), int32 value count, float values (mean of squares × ncall); then int32 chunk count and the
/// dataset name (int32 length + bytes). Counts are not stored: reading rebuilds them from ncall and a chunk
/// size, which keeps every mean exact.
/// </summary>
internal static class ImatrixLegacyFormat
{
    public static void Write(ImportanceMatrix matrix, string path, int chunkSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSize);
        var stored = matrix.Entries.Where(e => e.Counts.Any(c => c > 0)).ToList();
        var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(stored.Count);
            foreach (var e in stored)
            {
                var name = Encoding.UTF8.GetBytes(e.Name);
                w.Write(name.Length);
                w.Write(name);
                // Ceiling division, as llama.cpp does, so a partly filled chunk does not become zero.
                long maxCount = e.Counts.Max();
                int ncall = checked((int)((maxCount + chunkSize - 1) / chunkSize));
                w.Write(ncall);
                w.Write(e.Sums.Length);
                int width = e.Width;
                for (int i = 0; i < e.Sums.Length; i++)
                {
                    long count = e.Counts[i / width];
                    double mean = count == 0 ? 1.0 : e.Sums[i] / count;
                    w.Write((float)(mean * ncall));
                }
            }
            w.Write(matrix.ChunkCount);
            var dataset = Encoding.UTF8.GetBytes(matrix.Datasets.Count > 0 ? matrix.Datasets[^1] : "");
            w.Write(dataset.Length);
            w.Write(dataset);
        }
        AtomicFile.WriteAllBytes(path, buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }

    public static ImportanceMatrix Read(string path, int chunkSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSize);
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw GgufOptimizeException.BadInput($"imatrix file '{path}' cannot be read: {e.Message}");
        }
        var r = new Cursor(bytes, path);
        int entries = r.Int("the entry count");
        if (entries < 1) throw r.Corrupt($"it claims {entries} entries");
        var matrix = new ImportanceMatrix { ChunkSize = chunkSize };
        for (int n = 0; n < entries; n++)
        {
            int nameLength = r.Int("a name length");
            if (nameLength < 1 || nameLength > 4096) throw r.Corrupt($"entry {n + 1} has a name length of {nameLength}");
            string name = Encoding.UTF8.GetString(r.Bytes(nameLength, "a name"));
            int ncall = r.Int("a chunk count");
            int values = r.Int("a value count");
            if (ncall < 0) throw r.Corrupt($"'{name}' claims {ncall} chunks");
            if (values < 1 || values > r.Remaining / 4) throw r.Corrupt($"'{name}' claims {values} values");
            var sums = new double[values];
            for (int i = 0; i < values; i++)
            {
                float v = r.Float();
                if (!float.IsFinite(v) || v < 0) throw r.Corrupt($"'{name}' holds an invalid value {v}");
                sums[i] = (double)v * chunkSize;
            }
            matrix.Add(name, sums, [(long)ncall * chunkSize]);
        }
        // The trailer (chunk count, dataset name) is optional in old files.
        if (r.Remaining >= 4)
        {
            matrix.ChunkCount = Math.Max(0, r.Int("the chunk count"));
            if (r.Remaining >= 4)
            {
                int length = r.Int("the dataset name length");
                if (length < 0 || length > r.Remaining) throw r.Corrupt($"the dataset name length is {length}");
                if (length > 0) matrix.Datasets.Add(Encoding.UTF8.GetString(r.Bytes(length, "the dataset name")));
            }
        }
        if (r.Remaining != 0) throw r.Corrupt($"{r.Remaining} unexpected bytes follow the data");
        return matrix;
    }

    private sealed class Cursor(byte[] bytes, string path)
    {
        private int _at;
        public int Remaining => bytes.Length - _at;

        public int Int(string what) => BitConverter.ToInt32(Bytes(4, what));
        public float Float() => BitConverter.ToSingle(Bytes(4, "a value"));

        public ReadOnlySpan<byte> Bytes(int n, string what)
        {
            if (n > Remaining) throw Corrupt($"it ends inside {what}");
            var span = bytes.AsSpan(_at, n);
            _at += n;
            return span;
        }

        public GgufOptimizeException Corrupt(string what) =>
            GgufOptimizeException.BadInput($"imatrix file '{path}' is not a valid legacy .dat imatrix: {what}");
    }
}
