using GgufOptimize.Metrics;

namespace GgufOptimize.Reporting;

/// <summary>
/// One comparison file as the report sees it: our own files carry every token's values (so intervals, paired
/// tests and the exact KLD distribution are available); files of the Python tool carry only per-chunk and overall
/// statistics.
/// </summary>
internal sealed record ComparisonData
{
    public required string Path { get; init; }
    /// <summary>File name without extension: how the comparison is named in tables and legends.</summary>
    public required string Label { get; init; }
    /// <summary>Quantization type: recorded by iterate or kld, read from the target's header, or found in a file name.</summary>
    public string? Type { get; init; }
    /// <summary>Where <see cref="Type"/> comes from, in words.</summary>
    public string? TypeSource { get; init; }
    public int? Iteration { get; init; }
    /// <summary>"500 samples", "none" (no imatrix), "200 chunks (imatrix.gguf)", or null when unknown.</summary>
    public string? Calibration { get; init; }
    /// <summary>Samples (iterate) or imatrix chunks (kld) behind the imatrix; 0 without one.</summary>
    public double? CalibrationSize { get; init; }
    /// <summary>True: quantized with an imatrix; false: without one; null: nothing recorded tells.</summary>
    public bool? UsesImatrix { get; init; }
    /// <summary>How <see cref="UsesImatrix"/> is known, in words (the report says it when naming the reference step).</summary>
    public string? ImatrixSource { get; init; }
    /// <summary>What the comparison was measured against (baseline model and text); equal keys = same baseline.</summary>
    public string? BaselineKey { get; init; }
    /// <summary>The baseline as a person names it: model file (or baseline file) name.</summary>
    public string? Baseline { get; init; }
    /// <summary>File name of the evaluation text, when recorded.</summary>
    public string? Dataset { get; init; }
    public int? ContextSize { get; init; }
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
