using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using GgufOptimize.Common;
using GgufOptimize.Kld;
using GgufOptimize.Metrics;
using GgufOptimize.Storage;
using PureHDF;
using PureHDF.VOL.Native;

namespace GgufOptimize.Reporting;

/// <summary>
/// Reads a comparison file of either kind: ours (<see cref="KldOutputFile"/>, contiguous, with per-token data), or
/// the Python tool's (h5py, groups <c>chunk_&lt;i&gt;</c> whose attributes are that chunk's statistics, the overall
/// statistics as a JSON string attribute <c>overall</c> or as running sums), read with PureHDF since h5py may
/// store it chunked or compressed.
/// </summary>
internal static partial class ComparisonReader
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static ComparisonData Read(string path)
    {
        if (!File.Exists(path)) throw GgufOptimizeException.BadInput($"comparison file '{path}' does not exist");
        string? format;
        Storage.Hdf5.Filters.PureHdfFilters.EnsureRegistered();
        try
        {
            using var file = H5File.OpenRead(path);
            format = file.AttributeExists("format") ? ReadString(file.Attribute("format")) : null;
            if (!KldOutputFile.IsOurs(format))
                return ReadPythonLayout(path, file);
        }
        catch (Exception e) when (e is not GgufOptimizeException and not OutOfMemoryException)
        {
            throw GgufOptimizeException.BadInput($"'{path}' is not a readable HDF5 comparison file: {e.Message}");
        }
        return ReadOurs(path);
    }

    private static ComparisonData ReadOurs(string path)
    {
        var contents = KldOutputFile.Read(path);
        var chunks = contents.Chunks;
        var overall = KldStatistics.Compute(chunks).ToDictionary();
        var p = contents.Provenance;
        var n = contents.Numbers;
        string label = System.IO.Path.GetFileNameWithoutExtension(path);
        string? target = p.GetValueOrDefault("target");
        string? logitsModel = p.GetValueOrDefault(TargetFacts.ModelKey);
        double? Number(string key) => n.TryGetValue(key, out var v) ? v : null;

        // Files written before kld recorded the target: its header, if the model is still where it was.
        bool needHeader = !p.ContainsKey(ComparisonLabels.TypeKey) && !p.ContainsKey(TargetFacts.ImatrixKey)
            || !n.ContainsKey(TargetFacts.BitsPerWeightKey);
        var header = needHeader ? TargetModelLookup.Find(path, p) : null;

        var (type, typeSource) = p.GetValueOrDefault(ComparisonLabels.TypeKey) is { } it ? (it, "recorded by iterate")
            : p.GetValueOrDefault(TargetFacts.TypeKey) is { } kt ? (kt, "general.file_type of the target model, recorded by kld")
            : header?.Type is { } ht ? (ht, "general.file_type of the target model's header")
            : TypeInName(logitsModel) is { } mt ? (mt, $"named in '{logitsModel}', the model the target logits came from")
            : TypeInName(target) is { } tt ? (tt, $"named in the target's file name '{target}'")
            : TypeInName(label) is { } lt ? (lt, "named in the comparison file's name")
            : ((string?)null, (string?)null);

        var imatrix = Imatrix(p, n, header, target, logitsModel);
        return new ComparisonData
        {
            Path = path,
            Label = label,
            Type = type,
            TypeSource = typeSource,
            Iteration = Number(ComparisonLabels.IterationKey) is { } iteration ? (int)iteration : null,
            Calibration = imatrix.Label,
            CalibrationSize = imatrix.Size,
            UsesImatrix = imatrix.Uses,
            ImatrixSource = imatrix.Source,
            TargetBytes = Number(TargetFacts.BytesKey) ?? header?.FileBytes,
            BitsPerWeight = Number(TargetFacts.BitsPerWeightKey) ?? (header is { } h && double.IsFinite(h.BitsPerWeight) ? h.BitsPerWeight : null),
            Target = target,
            BaselineKey = BaselineKey(p, n),
            Baseline = p.GetValueOrDefault(BaselineFacts.ModelKey) ?? p.GetValueOrDefault("baseline_file"),
            Dataset = p.GetValueOrDefault(BaselineFacts.DatasetKey),
            ContextSize = Number("n_ctx") is { } ctx ? (int)ctx : null,
            Overall = overall,
            ChunkScores = chunks.Select(c => (c.ChunkIndex, KldStatistics.Compute(c).Score)).ToList(),
            Chunks = chunks,
        };
    }

    private sealed record ImatrixFacts(bool? Uses, string? Label, double? Size, string? Source);

    /// <summary>Whether and with what the target was quantized with an imatrix, from the most direct record there is.</summary>
    private static ImatrixFacts Imatrix(IReadOnlyDictionary<string, string> p, IReadOnlyDictionary<string, double> n, Gguf.QuantizationFacts? header,
        string? target, string? logitsModel)
    {
        if (p.GetValueOrDefault(ComparisonLabels.CalibrationKey) is { } calibration)
        {
            double size = n.GetValueOrDefault(ComparisonLabels.CalibrationSizeKey);
            bool uses = calibration != "none";
            return new(uses, calibration, uses ? size : 0, "as recorded by iterate");
        }
        if (p.GetValueOrDefault(TargetFacts.ImatrixKey) is { } file)
        {
            if (file == TargetFacts.NoImatrix)
                return new(false, "none", 0, "the target model's GGUF header has no quantize.imatrix keys (recorded by kld)");
            double? chunks = n.TryGetValue(TargetFacts.ImatrixChunksKey, out var c) ? c : null;
            return new(true, chunks is { } k ? $"{k.ToString(Inv)} chunks ({file})" : file, chunks, $"the target model's GGUF header names imatrix '{file}' (recorded by kld)");
        }
        if (header is not null)
        {
            if (header.Imatrix is not { } im) return new(false, "none", 0, "the target model's GGUF header (read now) has no quantize.imatrix keys");
            string name = System.IO.Path.GetFileName(im.File);
            return new(true, im.Chunks is { } k ? $"{k.ToString(Inv)} chunks ({name})" : name, im.Chunks, $"the target model's GGUF header (read now) names imatrix '{name}'");
        }
        foreach (var name in new[] { target, logitsModel })
        {
            var guess = GuessFromTarget(name);
            if (guess.Type is null) continue;
            return guess.Calibration == "none"
                ? new(false, "none", 0, $"guessed: the file name '{name}' has no -imat- tag")
                : new(true, guess.Calibration, FirstNumber(guess.Calibration), $"guessed from the -imat- tag of the file name '{name}'");
        }
        return new(null, null, null, null);
    }

    /// <summary>
    /// The baseline model and evaluation text a comparison was measured against: the SHA-256 values in its baseline
    /// identity (model and text, whichever way the baseline was given) and the context size.
    /// </summary>
    private static string? BaselineKey(IReadOnlyDictionary<string, string> p, IReadOnlyDictionary<string, double> n)
    {
        if (p.GetValueOrDefault("id_baseline") is not { } id) return null;
        var hashes = Sha256Value().Matches(id).Select(m => m.Value).ToList();
        string ctx = n.TryGetValue("n_ctx", out var c) ? c.ToString(Inv) : "?";
        return hashes.Count > 0 ? $"{string.Join(" on ", hashes)}, n_ctx {ctx}" : id;
    }

    private static double? FirstNumber(string? text) =>
        text is not null && Digits().Match(text) is { Success: true } m && double.TryParse(m.Value, NumberStyles.None, Inv, out var v) ? v : null;

    private static ComparisonData ReadPythonLayout(string path, NativeFile file)
    {
        var scores = new List<(int, double)>();
        foreach (var child in file.Children())
        {
            var m = ChunkGroup().Match(child.Name);
            if (!m.Success || child is not IH5Group group) continue;
            var stats = Numbers(group);
            double score = stats.TryGetValue("Median", out var median) && stats.TryGetValue("KLD_99", out var k99)
                && stats.TryGetValue("KLD_95", out var k95) && stats.TryGetValue("KLD_90", out var k90)
                ? CompositeScore.Compute(median, k99, k95, k90)
                : double.NaN;
            scores.Add((int.Parse(m.Groups[1].Value), score));
        }
        if (scores.Count == 0)
            throw GgufOptimizeException.BadInput($"'{path}' is neither a comparison file of gguf-optimize nor of llama-gguf-optimize (no chunk_<i> groups)");
        scores.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        string label = System.IO.Path.GetFileNameWithoutExtension(path);
        return new ComparisonData
        {
            Path = path,
            Label = label,
            Type = TypeInName(label),
            TypeSource = TypeInName(label) is null ? null : "named in the comparison file's name",
            Calibration = label,
            Overall = PythonOverall(file),
            ChunkScores = scores,
            FromPythonTool = true,
        };
    }

    /// <summary>The JSON <c>overall</c> attribute when present; otherwise what the running sums give (no percentiles).</summary>
    private static Dictionary<string, double> PythonOverall(NativeFile file)
    {
        var result = new Dictionary<string, double>();
        if (file.AttributeExists("overall"))
        {
            using var doc = JsonDocument.Parse(ReadString(file.Attribute("overall")) ?? "{}");
            foreach (var p in doc.RootElement.EnumerateObject())
                if (p.Value.ValueKind == JsonValueKind.Number) result[p.Name] = p.Value.GetDouble();
        }
        else
        {
            var root = Numbers(file);
            if (root.TryGetValue("total_values", out var n) && n > 0 && root.TryGetValue("overall_sum", out var sum) && root.TryGetValue("overall_sumsq", out var sumsq))
            {
                double mean = sum / n;
                result["Average"] = mean;
                result["StdDev"] = Math.Sqrt(Math.Max(0, sumsq / n - mean * mean));
                if (root.TryGetValue("overall_min", out var min)) result["Minimum"] = min;
                if (root.TryGetValue("overall_max", out var max)) result["Maximum"] = max;
                result["Tokens"] = n;
            }
        }
        if (result.TryGetValue("Median", out var med) && result.TryGetValue("KLD_99", out var k99) && result.TryGetValue("KLD_95", out var k95) && result.TryGetValue("KLD_90", out var k90))
            result["Score"] = CompositeScore.Compute(med, k99, k95, k90);
        return result;
    }

    /// <summary>Numeric scalar attributes of an object (integers and floats of any width).</summary>
    private static Dictionary<string, double> Numbers(IH5Object obj)
    {
        var values = new Dictionary<string, double>();
        foreach (var a in obj.Attributes())
        {
            if (a.Space.Dimensions.Length != 0) continue;
            double? v = (a.Type.Class, a.Type.Size) switch
            {
                (H5DataTypeClass.FloatingPoint, 8) => a.Read<double>(),
                (H5DataTypeClass.FloatingPoint, 4) => a.Read<float>(),
                (H5DataTypeClass.FixedPoint, 8) => a.Read<long>(),
                (H5DataTypeClass.FixedPoint, 4) => a.Read<int>(),
                (H5DataTypeClass.FixedPoint, 2) => a.Read<short>(),
                (H5DataTypeClass.FixedPoint, 1) => a.Read<sbyte>(),
                _ => null,
            };
            if (v is { } d) values[a.Name] = d;
        }
        return values;
    }

    /// <summary>A scalar string attribute, fixed-length or variable-length (h5py writes the latter for Python str).</summary>
    private static string? ReadString(IH5Attribute a) =>
        a.Type.Class is H5DataTypeClass.String or H5DataTypeClass.VariableLength && a.Space.Dimensions.Length == 0 ? a.Read<string>() : null;

    /// <summary>Type and imatrix tag from a quantized file name such as <c>model-Q4_K_M-imat-500-samples.gguf</c>.</summary>
    private static (string? Type, string? Calibration) GuessFromTarget(string? target)
    {
        if (target is null) return (null, null);
        var m = TargetName().Match(target);
        if (!m.Success) return (null, null);
        return (m.Groups["type"].Value.ToUpperInvariant(), m.Groups["tag"].Success ? m.Groups["tag"].Value : "none");
    }

    /// <summary>A quantization type named in a file name such as <c>kld_Q4_K_M.h5</c>; null when none is.</summary>
    private static string? TypeInName(string? name)
    {
        if (name is null) return null;
        var m = TypeToken().Match(name);
        return m.Success ? m.Groups["type"].Value.ToUpperInvariant() : null;
    }

    [GeneratedRegex(@"(?:^|[-_.])(?<type>IQ\d_(?:XXS|XS|NL|S|M)|Q\d_K(?:_[SML])?|Q\d_[01]|TQ\d_0|BF16|F16|F32)(?=$|[-_.])", RegexOptions.IgnoreCase)]
    private static partial Regex TypeToken();

    [GeneratedRegex("[0-9a-f]{64}")]
    private static partial Regex Sha256Value();

    [GeneratedRegex(@"\d+")]
    private static partial Regex Digits();

    [GeneratedRegex(@"^chunk_(\d+)$")]
    private static partial Regex ChunkGroup();

    [GeneratedRegex(@"-(?<type>(?:I?Q\d[A-Za-z0-9_]*?|TQ\d_\d|MXFP4_MOE|F16|BF16|F32))(?:-imat-(?<tag>.+))?\.gguf$", RegexOptions.IgnoreCase)]
    private static partial Regex TargetName();
}
