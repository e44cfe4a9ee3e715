using System.Runtime.InteropServices;
using GgufOptimize.Gguf;

namespace GgufOptimize.Imatrix;

/// <summary>
/// The state of an unfinished imatrix run, saved every --save-frequency chunks (and on Ctrl-C) next to the
/// output as "&lt;output&gt;.resume". Sums are kept in double precision so a resumed run ends with exactly the
/// numbers an uninterrupted one would. <see cref="Identity"/> names everything that determines the result;
/// a snapshot is only resumed by a run with the same identity.
/// </summary>
internal sealed record ImatrixSnapshot(ImportanceMatrix Matrix, int ChunksDone, string Identity)
{
    private const string IdentityKey = "gguf_optimize.imatrix_resume.identity";
    private const string DoneKey = "gguf_optimize.imatrix_resume.chunks_done";

    public static string PathFor(string outputPath) => outputPath + ".resume";

    public void Write(string path)
    {
        var writer = new GgufWriter();
        writer.Metadata.Set(IdentityKey, GgufValue.String(Identity));
        writer.Metadata.Set(DoneKey, GgufValue.UInt32((uint)ChunksDone));
        writer.Metadata.Set(ImatrixGgufFormat.DatasetsKey, GgufValue.Array(Matrix.Datasets));
        writer.Metadata.Set(ImatrixGgufFormat.ChunkCountKey, GgufValue.UInt32((uint)Matrix.ChunkCount));
        writer.Metadata.Set(ImatrixGgufFormat.ChunkSizeKey, GgufValue.UInt32((uint)Matrix.ChunkSize));
        int i = 0;
        foreach (var e in Matrix.Entries)
        {
            // Entry names go into metadata: tensor names are limited to 63 bytes.
            writer.Metadata.Set($"gguf_optimize.imatrix_resume.name.{i}", GgufValue.String(e.Name));
            var counts = e.Counts.Select(c => (double)c).ToArray();
            writer.AddTensor($"s{i}", GgmlType.F64, [e.Width, e.Groups], MemoryMarshal.AsBytes(e.Sums.AsSpan()).ToArray());
            writer.AddTensor($"c{i}", GgmlType.F64, [1, e.Groups], MemoryMarshal.AsBytes(counts.AsSpan()).ToArray());
            i++;
        }
        writer.Write(path);
    }

    /// <summary>The snapshot at <paramref name="path"/>, or null when it is missing or unreadable (then the run starts over).</summary>
    public static ImatrixSnapshot? TryRead(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            var file = GgufFile.Read(path);
            var meta = file.Metadata;
            string? identity = meta.GetString(IdentityKey);
            long? done = meta.GetInteger(DoneKey);
            if (identity is null || done is null) return null;
            var matrix = new ImportanceMatrix
            {
                ChunkCount = (int)(meta.GetInteger(ImatrixGgufFormat.ChunkCountKey) ?? 0),
                ChunkSize = (int)(meta.GetInteger(ImatrixGgufFormat.ChunkSizeKey) ?? 0),
            };
            if (meta.TryGet(ImatrixGgufFormat.DatasetsKey, out var ds) && ds.IsArray && ds.ElementType == GgufValueType.String)
                matrix.Datasets.AddRange(ds.AsStringArray());
            for (int i = 0; ; i++)
            {
                string? name = meta.GetString($"gguf_optimize.imatrix_resume.name.{i}");
                if (name is null) break;
                var sums = Doubles(file, file.Tensor($"s{i}"));
                var counts = Doubles(file, file.Tensor($"c{i}")).Select(c => (long)c).ToArray();
                matrix.Add(name, sums, counts);
            }
            return new ImatrixSnapshot(matrix, (int)done.Value, identity);
        }
        catch (Common.GgufOptimizeException)
        {
            return null;
        }
    }

    private static double[] Doubles(GgufFile file, GgufTensorInfo tensor)
    {
        if (tensor.Type != GgmlType.F64) throw Common.GgufOptimizeException.BadInput($"snapshot tensor {tensor.Name} is not F64");
        var values = new double[tensor.ElementCount];
        file.ReadTensorBytes(tensor, MemoryMarshal.AsBytes(values.AsSpan()));
        return values;
    }
}
