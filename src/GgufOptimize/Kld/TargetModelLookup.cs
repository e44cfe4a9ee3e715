using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Gguf;
using GgufOptimize.Storage;

namespace GgufOptimize.Kld;

/// <summary>
/// For a comparison file that lacks <see cref="TargetFacts"/> (written before kld recorded them): the target model's
/// header, read now, when the model is still at its recorded path, or — with only a file name recorded — next to the
/// comparison file, one folder up or in the working folder, with the SHA-256 the file recorded for its target.
/// </summary>
internal static class TargetModelLookup
{
    public static QuantizationFacts? Find(string comparisonFile, IReadOnlyDictionary<string, string> provenance)
    {
        if (provenance.TryGetValue(TargetFacts.PathKey, out var recorded))
            return File.Exists(recorded) && IsModel(recorded) ? TryRead(recorded) : null;
        if (!provenance.TryGetValue("target", out var name) || !IsModel(name)) return null;
        if (!provenance.TryGetValue("id_target", out var id) || !id.StartsWith("model ", StringComparison.Ordinal)) return null;
        string sha = id["model ".Length..];
        string folder = Path.GetDirectoryName(Path.GetFullPath(comparisonFile))!;
        foreach (var candidate in new[] { Path.Combine(folder, name), Path.Combine(Path.GetDirectoryName(folder) ?? folder, name), Path.GetFullPath(name) }.Distinct())
            if (File.Exists(candidate) && ModelIdentity.Of(candidate).Sha256 == sha) return TryRead(candidate);
        return null;
    }

    private static bool IsModel(string path) => path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase);

    private static QuantizationFacts? TryRead(string path)
    {
        try { return QuantizationFacts.Read(path); }
        catch (Exception e) when (e is GgufOptimizeException or IOException or InvalidDataException) { return null; }
    }
}
