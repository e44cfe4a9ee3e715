using GgufOptimize.Metrics;

namespace GgufOptimize.Reporting;

/// <summary>
/// One comparison file as the report sees it: our own files carry every token's values (so intervals, paired
/// tests and the exact KLD distribution are available); files of the Python tool carry only per-chunk and overall
/// statistics.
/// </summary>
public sealed record ComparisonData
{
    public required string Path { get; init; }
    /// <summary>File name without extension: how the comparison is named in tables and legends.</summary>
    public required string Label { get; init; }
    /// <summary>Quantization type (from iterate's attributes, or guessed from the target's file name).</summary>
    public string? Type { get; init; }
    public int? Iteration { get; init; }
    /// <summary>"500 samples", "none" (no imatrix), or null when unknown.</summary>
    public string? Calibration { get; init; }
    public double? CalibrationSize { get; init; }
    public double? TargetBytes { get; init; }
    public double? BitsPerWeight { get; init; }
    public string? Target { get; init; }
    /// <summary>Statistic name → value (the Python tool's names); missing ones are absent.</summary>
    public required IReadOnlyDictionary<string, double> Overall { get; init; }
    /// <summary>Composite score of every chunk, by chunk index.</summary>
    public required IReadOnlyList<(int Chunk, double Score)> ChunkScores { get; init; }
    /// <summary>Per-token results; null for files that hold only statistics.</summary>
    public IReadOnlyList<ChunkResult>? Chunks { get; init; }
    public bool FromPythonTool { get; init; }

    public double Score => Overall.TryGetValue("Score", out var s) ? s : double.NaN;

    public double Stat(string name) => Overall.TryGetValue(name, out var v) ? v : double.NaN;
}
