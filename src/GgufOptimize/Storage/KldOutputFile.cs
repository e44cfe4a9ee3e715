using System.Globalization;
using System.Text;
using System.Text.Json;
using GgufOptimize.Common;
using GgufOptimize.Metrics;
using GgufOptimize.Storage.Hdf5;

namespace GgufOptimize.Storage;

/// <summary>
/// The comparison file: groups <c>chunk_&lt;i&gt;</c> and <c>overall</c> whose attributes carry the statistics under
/// the Python tool's names, the per-token values of every compared chunk in float64 (so overall statistics read back
/// are exactly the computed ones), and provenance attributes on the root.
/// </summary>
/// <remarks>
/// The Python tool's readers (read_kl_d_benchmarks.py, composite_comparsion.py) take every root member whose name
/// starts with <c>chunk_</c> as <c>chunk_&lt;integer&gt;</c> and read the overall statistics from a root attribute
/// <c>overall</c> holding a JSON object. So no other root member may start with <c>chunk_</c>, and the overall
/// statistics are written twice: as the <c>overall</c> group's attributes and as that JSON string.
/// </remarks>
internal static class KldOutputFile
{
    public const string FormatName = "gguf-optimize-kld-2";
    /// <summary>The first layout: float32 per-token values, datasets chunk_numbers/chunk_offsets (unreadable by the Python tool).</summary>
    private const string FormatV1 = "gguf-optimize-kld-1";

    public const string ChunkNumbersDataset = "compared_chunks";
    public const string TokenOffsetsDataset = "token_offsets";
    /// <summary>Root attribute with the overall statistics as a JSON object (the Python tool's readers use it).</summary>
    public const string OverallJsonAttribute = "overall";
    /// <summary>Per chunk: scored next tokens whose baseline log-probability is a stored floor (llama.cpp .kld baselines).</summary>
    public const string FlooredDataset = "floored_next_tokens";

    public sealed record Contents(
        IReadOnlyList<ChunkResult> Chunks,
        IReadOnlyDictionary<string, string> Provenance,
        IReadOnlyDictionary<string, double> Numbers);

    /// <summary>Whether a <c>format</c> attribute names one of our comparison layouts (current or earlier).</summary>
    public static bool IsOurs(string? format) => format is FormatName or FormatV1;

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
        root.SetAttribute(OverallJsonAttribute, OverallJson(overall));

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
        root.AddDataset(ChunkNumbersDataset, H5ElementType.Int32, chunks.Count).SetInitialData(chunks.Select(c => c.ChunkIndex).ToArray());
        root.AddDataset(TokenOffsetsDataset, H5ElementType.Int64, offsets.Length).SetInitialData(offsets);
        root.AddDataset("nonfinite_rows", H5ElementType.Int32, chunks.Count).SetInitialData(chunks.Select(c => c.NonFiniteRows).ToArray());
        root.AddDataset(FlooredDataset, H5ElementType.Int32, chunks.Count).SetInitialData(chunks.Select(c => c.FlooredNextTokens).ToArray());
        root.AddDataset("kld", H5ElementType.Float64, total).SetInitialData(Concat(chunks, c => c.Kld));
        root.AddDataset("delta_p", H5ElementType.Float64, total).SetInitialData(Concat(chunks, c => c.DeltaP));
        root.AddDataset("logprob_base", H5ElementType.Float64, total).SetInitialData(Concat(chunks, c => c.LogProbBase));
        root.AddDataset("logprob_target", H5ElementType.Float64, total).SetInitialData(Concat(chunks, c => c.LogProbTarget));
        root.AddDataset("same_top", H5ElementType.Bool, total).SetInitialData(Concat(chunks, c => c.SameTop).Select(b => (byte)(b ? 1 : 0)).ToArray());

        // Create writes under a temporary name and renames it over the old file: one temporary file, one rename.
        Hdf5ContiguousFile.Create(path, spec, new Hdf5CreateOptions { Overwrite = true });
    }

    public static Contents Read(string path)
    {
        var layout = Hdf5ContiguousFile.Open(path);
        if (!layout.Root.TryGetAttribute<string>("format", out var format) || !IsOurs(format))
            throw GgufOptimizeException.BadInput($"'{path}' is not a comparison file of gguf-optimize (format attribute {(format is null ? "missing" : $"'{format}'")})");
        bool v1 = format == FormatV1;
        string numbersName = "/" + (v1 ? "chunk_numbers" : ChunkNumbersDataset);
        string offsetsName = "/" + (v1 ? "chunk_offsets" : TokenOffsetsDataset);
        using var reader = Hdf5MappedReader.Open(layout);
        if (!layout.TryGetDataset(numbersName, out var numbersInfo) || numbersInfo.Shape.Count != 1)
            throw GgufOptimizeException.BadInput($"'{path}' has no one-dimensional dataset {numbersName} (the file is corrupt)");
        int n = StoredFileChecks.Chunks(path, numbersName, numbersInfo.ElementCount);
        StoredFileChecks.Shape<int>(path, layout, numbersName, n);
        StoredFileChecks.Shape<long>(path, layout, offsetsName, n + 1);
        StoredFileChecks.Shape<int>(path, layout, "/nonfinite_rows", n);
        if (!v1) StoredFileChecks.Shape<int>(path, layout, "/" + FlooredDataset, n);
        var numbers = reader.Elements<int>(numbersName, 0, n).ToArray();
        var offsets = reader.Elements<long>(offsetsName, 0, n + 1).ToArray();
        var nonFinite = reader.Elements<int>("/nonfinite_rows", 0, n).ToArray();
        var floored = v1 ? new int[n] : reader.Elements<int>("/" + FlooredDataset, 0, n).ToArray();
        long total = offsets[n];
        foreach (string name in new[] { "/kld", "/delta_p", "/logprob_base", "/logprob_target" })
        {
            if (v1) StoredFileChecks.Shape<float>(path, layout, name, total);
            else StoredFileChecks.Shape<double>(path, layout, name, total);
        }
        StoredFileChecks.Shape<byte>(path, layout, "/same_top", total);
        CheckChunks(path, numbers, offsets, nonFinite, floored);
        var chunks = new List<ChunkResult>(n);
        for (int i = 0; i < n; i++)
        {
            long first = offsets[i];
            int count = (int)(offsets[i + 1] - first);
            double[] F(string name)
            {
                if (count == 0) return [];
                if (!v1) return reader.Elements<double>(name, first, count).ToArray();
                var single = reader.Elements<float>(name, first, count);
                var wide = new double[count];
                for (int k = 0; k < count; k++) wide[k] = single[k];
                return wide;
            }
            var same = count == 0 ? [] : reader.Elements<byte>("/same_top", first, count).ToArray().Select(b => b != 0).ToArray();
            var kld = F("/kld");
            var deltaP = F("/delta_p");
            for (int k = 0; k < count; k++)
                if (!double.IsFinite(kld[k]) || !double.IsFinite(deltaP[k]))
                    throw GgufOptimizeException.BadInput($"'{path}': token {k} of chunk {numbers[i]} has KLD {kld[k]} and Δp {deltaP[k]}; a stored comparison holds only finite values (the file is corrupt)");
            chunks.Add(new ChunkResult(numbers[i], kld, deltaP, same, F("/logprob_base"), F("/logprob_target"), nonFinite[i], floored[i]));
        }
        var prov = new Dictionary<string, string>();
        var nums = new Dictionary<string, double>();
        foreach (var (k, v) in layout.Root.Attributes)
        {
            if (k == OverallJsonAttribute) continue; // derived from the chunks, not provenance
            if (v is string s) prov[k] = s;
            else if (v is double d) nums[k] = d;
            else if (v is long l) nums[k] = l;
        }
        return new Contents(chunks, prov, nums);
    }

    /// <summary>Chunk numbers distinct and ≥ 0, token offsets from 0 and never decreasing, row counts ≥ 0 and within their chunk.</summary>
    private static void CheckChunks(string path, int[] numbers, long[] offsets, int[] nonFinite, int[] floored)
    {
        if (offsets[0] != 0) throw GgufOptimizeException.BadInput($"'{path}': the first token offset is {offsets[0]}, not 0 (the file is corrupt)");
        var seen = new HashSet<int>();
        for (int i = 0; i < numbers.Length; i++)
        {
            long count = offsets[i + 1] - offsets[i];
            if (numbers[i] < 0 || !seen.Add(numbers[i]))
                throw GgufOptimizeException.BadInput($"'{path}': compared chunk number {numbers[i]} (entry {i}) is negative or repeated (the file is corrupt)");
            if (count < 0 || count > int.MaxValue)
                throw GgufOptimizeException.BadInput($"'{path}': token offsets {offsets[i]} → {offsets[i + 1]} of chunk {numbers[i]} go backwards or are absurd (the file is corrupt)");
            if (nonFinite[i] < 0 || floored[i] < 0 || floored[i] > count)
                throw GgufOptimizeException.BadInput($"'{path}': chunk {numbers[i]} has nonfinite_rows {nonFinite[i]} and floored_next_tokens {floored[i]} for {count} tokens (the file is corrupt)");
        }
    }

    /// <summary>
    /// The statistics as one JSON object. Non-finite values are written as the bare tokens NaN/Infinity, which
    /// Python's json.loads accepts (a quoted "NaN" would reach the Python tool's number formatting as a string).
    /// </summary>
    internal static string OverallJson(KldStatistics stats)
    {
        var json = new StringBuilder("{");
        bool first = true;
        foreach (var (name, value) in stats.ToDictionary())
        {
            if (!first) json.Append(", ");
            first = false;
            json.Append(JsonSerializer.Serialize(name)).Append(": ").Append(
                double.IsNaN(value) ? "NaN"
                : double.IsPositiveInfinity(value) ? "Infinity"
                : double.IsNegativeInfinity(value) ? "-Infinity"
                : value.ToString("R", CultureInfo.InvariantCulture));
        }
        return json.Append('}').ToString();
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
