using GgufOptimize.Common;
using GgufOptimize.Metrics;
using GgufOptimize.Storage.Hdf5;

namespace GgufOptimize.Storage;

/// <summary>
/// The comparison file: groups <c>chunk_&lt;i&gt;</c> and <c>overall</c> whose attributes carry the statistics under
/// the Python tool's names, the per-token values of every compared chunk (so overall percentiles stay exact), and
/// provenance attributes on the root.
/// </summary>
public static class KldOutputFile
{
    public const string FormatName = "gguf-optimize-kld-1";

    public sealed record Contents(
        IReadOnlyList<ChunkResult> Chunks,
        IReadOnlyDictionary<string, string> Provenance,
        IReadOnlyDictionary<string, double> Numbers);

    /// <summary>Writes the comparison file once, with its provenance (and <c>iterate</c>'s labels) as root attributes.</summary>
    public static void Write(string path, IReadOnlyList<ChunkResult> chunks, KldStatistics overall, ComparisonProvenance provenance) =>
        Write(path, chunks, overall, provenance.Text(), provenance.Numbers());

    /// <summary>The same with any root attributes (text first, then numbers, each in the given order).</summary>
    internal static void Write(string path, IReadOnlyList<ChunkResult> chunks, KldStatistics overall,
        IEnumerable<KeyValuePair<string, string>> provenance, IEnumerable<KeyValuePair<string, double>> numbers)
    {
        var spec = new Hdf5FileSpec();
        var root = spec.Root;
        root.SetAttribute("format", FormatName);
        foreach (var (k, v) in provenance) root.SetAttribute(k, v);
        foreach (var (k, v) in numbers) root.SetAttribute(k, v);

        foreach (var chunk in chunks)
        {
            var g = root.AddGroup($"chunk_{chunk.ChunkIndex}");
            g.SetAttribute("ChunkNumber", (long)chunk.ChunkIndex);
            SetStatistics(g, KldStatistics.Compute(chunk));
        }
        SetStatistics(root.AddGroup("overall"), overall);

        long total = chunks.Sum(c => (long)c.Count);
        var offsets = new long[chunks.Count + 1];
        for (int i = 0; i < chunks.Count; i++) offsets[i + 1] = offsets[i] + chunks[i].Count;
        root.AddDataset("chunk_numbers", H5ElementType.Int32, chunks.Count).SetInitialData(chunks.Select(c => c.ChunkIndex).ToArray());
        root.AddDataset("chunk_offsets", H5ElementType.Int64, offsets.Length).SetInitialData(offsets);
        root.AddDataset("nonfinite_rows", H5ElementType.Int32, chunks.Count).SetInitialData(chunks.Select(c => c.NonFiniteRows).ToArray());
        root.AddDataset("kld", H5ElementType.Float32, total).SetInitialData(Concat(chunks, c => c.Kld));
        root.AddDataset("delta_p", H5ElementType.Float32, total).SetInitialData(Concat(chunks, c => c.DeltaP));
        root.AddDataset("logprob_base", H5ElementType.Float32, total).SetInitialData(Concat(chunks, c => c.LogProbBase));
        root.AddDataset("logprob_target", H5ElementType.Float32, total).SetInitialData(Concat(chunks, c => c.LogProbTarget));
        root.AddDataset("same_top", H5ElementType.Bool, total).SetInitialData(Concat(chunks, c => c.SameTop).Select(b => (byte)(b ? 1 : 0)).ToArray());

        string temp = AtomicFile.TempName(path);
        Hdf5ContiguousFile.Create(temp, spec);
        File.Move(temp, path, overwrite: true);
    }

    public static Contents Read(string path)
    {
        var layout = Hdf5ContiguousFile.Open(path);
        if (!layout.Root.TryGetAttribute<string>("format", out var format) || format != FormatName)
            throw GgufOptimizeException.BadInput($"'{path}' is not a comparison file of gguf-optimize (format attribute {(format is null ? "missing" : $"'{format}'")})");
        using var reader = Hdf5MappedReader.Open(layout);
        int n = (int)layout.Dataset("/chunk_numbers").ElementCount;
        var numbers = reader.Elements<int>("/chunk_numbers", 0, n).ToArray();
        var offsets = reader.Elements<long>("/chunk_offsets", 0, n + 1).ToArray();
        var nonFinite = reader.Elements<int>("/nonfinite_rows", 0, n).ToArray();
        var chunks = new List<ChunkResult>(n);
        for (int i = 0; i < n; i++)
        {
            long first = offsets[i];
            int count = (int)(offsets[i + 1] - first);
            float[] F(string name) => count == 0 ? [] : reader.Elements<float>(name, first, count).ToArray();
            var same = count == 0 ? [] : reader.Elements<byte>("/same_top", first, count).ToArray().Select(b => b != 0).ToArray();
            chunks.Add(new ChunkResult(numbers[i], F("/kld"), F("/delta_p"), same, F("/logprob_base"), F("/logprob_target"), nonFinite[i]));
        }
        var prov = new Dictionary<string, string>();
        var nums = new Dictionary<string, double>();
        foreach (var (k, v) in layout.Root.Attributes)
        {
            if (v is string s) prov[k] = s;
            else if (v is double d) nums[k] = d;
            else if (v is long l) nums[k] = l;
        }
        return new Contents(chunks, prov, nums);
    }

    private static void SetStatistics(Hdf5GroupSpec group, KldStatistics stats)
    {
        foreach (var (name, value) in stats.ToDictionary()) group.SetAttribute(name, value);
    }

    private static T[] Concat<T>(IReadOnlyList<ChunkResult> chunks, Func<ChunkResult, T[]> select)
    {
        var all = new T[chunks.Sum(c => (long)c.Count)];
        long w = 0;
        foreach (var c in chunks)
        {
            select(c).CopyTo(all, w);
            w += c.Count;
        }
        return all;
    }
}
