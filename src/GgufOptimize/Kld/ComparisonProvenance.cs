using GgufOptimize.Gguf;
using GgufOptimize.Storage;

namespace GgufOptimize.Kld;

/// <summary>
/// Root attributes <c>kld</c> writes into a comparison file so that <c>report</c> can name, place and size it from
/// the file alone: what the target is (type, imatrix, size, bits per weight) and what the baseline is (model and
/// evaluation text). Identity keys (<c>id_*</c>) decide resumption; these only describe.
/// </summary>
public static class ComparisonProvenance
{
    /// <summary>Full path of the target model or logits when the comparison was made.</summary>
    public const string TargetPath = "target_path";
    /// <summary>Quantization type from the target's <c>general.file_type</c>.</summary>
    public const string TargetType = "target_type";
    /// <summary>File name of the imatrix the target was quantized with, or <see cref="NoImatrix"/>.</summary>
    public const string TargetImatrix = "target_imatrix";
    public const string TargetImatrixDataset = "target_imatrix_dataset";
    public const string TargetImatrixChunks = "target_imatrix_chunks";
    /// <summary>For stored target logits: the file name of the model they were computed with (when their header says).</summary>
    public const string TargetModel = "target_model";
    public const string TargetBytes = "target_bytes";
    public const string TargetParameters = "target_parameters";
    public const string TargetBitsPerWeight = "target_bits_per_weight";
    public const string BaselineModel = "baseline_model";
    public const string BaselineModelSha256 = "baseline_model_sha256";
    public const string Dataset = "dataset";
    public const string DatasetSha256 = "dataset_sha256";

    public const string NoImatrix = "none";

    /// <summary>The target-model attributes, from its GGUF header.</summary>
    public static void AddTargetModel(string path, Dictionary<string, string> text, Dictionary<string, double> numbers)
    {
        var facts = QuantizationFacts.Read(path);
        text[TargetPath] = Path.GetFullPath(path);
        if (facts.Type is { } type) text[TargetType] = type;
        text[TargetImatrix] = facts.Imatrix is { } im ? Path.GetFileName(im.File) : NoImatrix;
        if (facts.Imatrix?.Dataset is { } dataset) text[TargetImatrixDataset] = dataset;
        if (facts.Imatrix?.Chunks is { } chunks) numbers[TargetImatrixChunks] = chunks;
        numbers[TargetBytes] = facts.FileBytes;
        numbers[TargetParameters] = facts.Parameters;
        if (double.IsFinite(facts.BitsPerWeight)) numbers[TargetBitsPerWeight] = facts.BitsPerWeight;
    }

    /// <summary>The attributes of stored target logits: their path and, when their header says, the model they came from.</summary>
    public static void AddTargetLogits(string path, BaselineHeader? header, Dictionary<string, string> text)
    {
        text[TargetPath] = Path.GetFullPath(path);
        if (header is not null) text[TargetModel] = header.Model.FileName;
    }

    /// <summary>The baseline model and evaluation text, when the baseline's header records them.</summary>
    public static void AddBaseline(BaselineHeader? header, Dictionary<string, string> text)
    {
        if (header is null) return;
        text[BaselineModel] = header.Model.FileName;
        text[BaselineModelSha256] = header.Model.Sha256;
        text[Dataset] = header.DatasetFile;
        text[DatasetSha256] = header.DatasetSha256;
    }

    /// <summary>
    /// For a comparison file that lacks the target attributes (written before kld recorded them): the target model's
    /// header, when the model is still at its recorded path, or — with only a file name recorded — next to the
    /// comparison file with the SHA-256 the file recorded. Null when neither is found.
    /// </summary>
    public static QuantizationFacts? FindTargetModel(string comparisonFile, IReadOnlyDictionary<string, string> provenance)
    {
        if (provenance.TryGetValue(TargetPath, out var recorded))
            return File.Exists(recorded) && recorded.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? TryRead(recorded) : null;
        if (!provenance.TryGetValue("target", out var name) || !name.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)) return null;
        if (!provenance.TryGetValue("id_target", out var id) || !id.StartsWith("model ", StringComparison.Ordinal)) return null;
        string sha = id["model ".Length..];
        string folder = Path.GetDirectoryName(Path.GetFullPath(comparisonFile))!;
        foreach (var candidate in new[] { Path.Combine(folder, name), Path.Combine(Path.GetDirectoryName(folder) ?? folder, name), Path.GetFullPath(name) }.Distinct())
            if (File.Exists(candidate) && Chunking.ModelIdentity.Of(candidate).Sha256 == sha) return TryRead(candidate);
        return null;
    }

    private static QuantizationFacts? TryRead(string path)
    {
        try { return QuantizationFacts.Read(path); }
        catch (Exception e) when (e is Common.GgufOptimizeException or IOException or InvalidDataException) { return null; }
    }
}
