using GgufOptimize.Metrics;
using GgufOptimize.Storage;

namespace GgufOptimize.Reporting;

/// <summary>
/// Root attributes <c>iterate</c> adds to its comparison files, so that <c>report</c> can place a file in its
/// table (type, iteration, calibration size) and plot it against bits per weight from the file alone.
/// </summary>
public static class ComparisonAttributes
{
    public const string Type = "iterate_type";
    public const string Iteration = "iterate_iteration";
    public const string Calibration = "iterate_calibration";
    public const string CalibrationSize = "iterate_calibration_size";
    public const string CalibrationTokens = "iterate_calibration_tokens";
    public const string TargetBytes = Kld.ComparisonProvenance.TargetBytes;
    public const string TargetParameters = Kld.ComparisonProvenance.TargetParameters;
    public const string TargetBitsPerWeight = Kld.ComparisonProvenance.TargetBitsPerWeight;

    /// <summary>Rewrites <paramref name="path"/> (atomically) with the extra attributes; statistics and per-token data are unchanged.</summary>
    public static void Annotate(string path, IReadOnlyDictionary<string, string> text, IReadOnlyDictionary<string, double> numbers)
    {
        var contents = KldOutputFile.Read(path);
        var provenance = new Dictionary<string, string>(contents.Provenance);
        foreach (var (k, v) in text) provenance[k] = v;
        var values = new Dictionary<string, double>(contents.Numbers);
        foreach (var (k, v) in numbers) values[k] = v;
        KldOutputFile.Write(path, contents.Chunks, KldStatistics.Compute(contents.Chunks), provenance, values);
    }
}
