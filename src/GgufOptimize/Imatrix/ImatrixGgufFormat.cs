using GgufOptimize.Common;
using GgufOptimize.Gguf;

namespace GgufOptimize.Imatrix;

/// <summary>
/// llama.cpp's GGUF imatrix layout: <c>general.type = "imatrix"</c>, <c>imatrix.datasets</c>,
/// <c>imatrix.chunk_count</c>, <c>imatrix.chunk_size</c>, and per weight (sorted by name) an F32 tensor
/// <c>&lt;name&gt;.in_sum2</c> [width, groups] of summed squares and <c>&lt;name&gt;.counts</c> [1, groups].
/// </summary>
internal static class ImatrixGgufFormat
{
    public const string TypeKey = "general.type";
    public const string TypeValue = "imatrix";
    public const string DatasetsKey = "imatrix.datasets";
    public const string ChunkCountKey = "imatrix.chunk_count";
    public const string ChunkSizeKey = "imatrix.chunk_size";
    public const string SumsSuffix = ".in_sum2";
    public const string CountsSuffix = ".counts";

    public static void Write(ImportanceMatrix matrix, string path)
    {
        var writer = new GgufWriter();
        writer.Metadata.Set(TypeKey, GgufValue.String(TypeValue));
        writer.Metadata.Set(DatasetsKey, GgufValue.Array(matrix.Datasets));
        writer.Metadata.Set(ChunkCountKey, GgufValue.UInt32((uint)matrix.ChunkCount));
        writer.Metadata.Set(ChunkSizeKey, GgufValue.UInt32((uint)matrix.ChunkSize));
        if (matrix.Coverage is { IsWhole: false } c)
        {
            writer.Metadata.Set(ImatrixCoverage.FromKey, GgufValue.UInt32((uint)c.From));
            writer.Metadata.Set(ImatrixCoverage.ToKey, GgufValue.UInt32((uint)c.To));
            writer.Metadata.Set(ImatrixCoverage.TotalKey, GgufValue.UInt32((uint)c.TotalChunks));
            writer.Metadata.Set(ImatrixCoverage.ModelKey, GgufValue.String(c.ModelSha256));
            writer.Metadata.Set(ImatrixCoverage.DatasetKey, GgufValue.String(c.DatasetSha256));
            writer.Metadata.Set(ImatrixCoverage.SettingsKey, GgufValue.String(c.Settings));
        }
        foreach (var e in matrix.Entries)
        {
            CheckNameFits(e.Name, path);
            var sums = new float[e.Sums.Length];
            for (int i = 0; i < sums.Length; i++) sums[i] = (float)e.Sums[i];
            var counts = new float[e.Counts.Length];
            for (int i = 0; i < counts.Length; i++) counts[i] = e.Counts[i];
            writer.AddTensor(e.Name + SumsSuffix, [e.Width, e.Groups], sums);
            writer.AddTensor(e.Name + CountsSuffix, [1, e.Groups], counts);
        }
        writer.Write(path);
    }

    public static ImportanceMatrix Read(GgufFile file)
    {
        var matrix = new ImportanceMatrix();
        var meta = file.Metadata;
        if (meta.TryGet(DatasetsKey, out var datasets) && datasets.IsArray && datasets.ElementType == GgufValueType.String)
            matrix.Datasets.AddRange(datasets.AsStringArray());
        matrix.ChunkCount = (int)Math.Clamp(meta.GetInteger(ChunkCountKey) ?? 0, 0, int.MaxValue);
        matrix.ChunkSize = (int)Math.Clamp(meta.GetInteger(ChunkSizeKey) ?? 0, 0, int.MaxValue);
        if (meta.GetInteger(ImatrixCoverage.FromKey) is { } from && meta.GetInteger(ImatrixCoverage.ToKey) is { } to
            && meta.GetInteger(ImatrixCoverage.TotalKey) is { } total && meta.GetString(ImatrixCoverage.ModelKey) is { } model
            && meta.GetString(ImatrixCoverage.DatasetKey) is { } dataset && meta.GetString(ImatrixCoverage.SettingsKey) is { } settings)
        {
            if (!(0 <= from && from < to && to <= total && total <= int.MaxValue))
                throw Corrupt(file, $"its chunk range {from}..{to} of {total} is impossible");
            matrix.Coverage = new ImatrixCoverage((int)from, (int)to, (int)total, model, dataset, settings);
        }

        var sums = new SortedDictionary<string, GgufTensorInfo>(StringComparer.Ordinal);
        var counts = new Dictionary<string, GgufTensorInfo>(StringComparer.Ordinal);
        foreach (var t in file.Tensors)
        {
            if (t.Name.EndsWith(SumsSuffix, StringComparison.Ordinal)) sums[t.Name[..^SumsSuffix.Length]] = t;
            else if (t.Name.EndsWith(CountsSuffix, StringComparison.Ordinal)) counts[t.Name[..^CountsSuffix.Length]] = t;
        }
        if (sums.Count == 0)
        {
            string kind = meta.GetString(TypeKey) is { } type ? $"general.type is '{type}'" : "it has no general.type";
            throw GgufOptimizeException.BadInput($"'{file.Path}' is a GGUF file but not an importance matrix ({kind} and there are no *{SumsSuffix} tensors)");
        }
        foreach (var name in counts.Keys)
            if (!sums.ContainsKey(name)) throw Corrupt(file, $"'{name}{CountsSuffix}' has no matching '{name}{SumsSuffix}'");

        foreach (var (name, sumTensor) in sums)
        {
            if (!counts.TryGetValue(name, out var countTensor)) throw Corrupt(file, $"'{name}{SumsSuffix}' has no matching '{name}{CountsSuffix}'");
            if (sumTensor.Type != GgmlType.F32 || countTensor.Type != GgmlType.F32)
                throw Corrupt(file, $"the tensors of '{name}' are not F32");
            var s = file.ReadTensorFloats(sumTensor);
            var c = file.ReadTensorFloats(countTensor);
            if (c.Length == 0 || s.Length == 0 || s.Length % c.Length != 0)
                throw Corrupt(file, $"'{name}' has {s.Length} sums for {c.Length} counts");
            var sumsD = new double[s.Length];
            for (int i = 0; i < s.Length; i++)
            {
                if (!float.IsFinite(s[i]) || s[i] < 0) throw Corrupt(file, $"'{name}' holds an invalid sum of squares {s[i]}");
                sumsD[i] = s[i];
            }
            var countsL = new long[c.Length];
            for (int i = 0; i < c.Length; i++)
            {
                if (!float.IsFinite(c[i]) || c[i] < 0) throw Corrupt(file, $"'{name}' holds an invalid count {c[i]}");
                countsL[i] = (long)Math.Round(c[i], MidpointRounding.AwayFromZero);
            }
            matrix.Add(name, sumsD, countsL);
        }
        return matrix;
    }

    private static void CheckNameFits(string name, string path)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(name + SumsSuffix) >= GgufFormat.MaxTensorNameBytes)
            throw GgufOptimizeException.BadInput($"weight name '{name}' is too long to be stored in a GGUF imatrix ('{path}'); use --output-format dat");
    }

    private static GgufOptimizeException Corrupt(GgufFile file, string what) =>
        GgufOptimizeException.BadInput($"imatrix file '{file.Path}' is corrupt: {what}");
}
