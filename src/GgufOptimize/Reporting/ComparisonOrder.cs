using System.Globalization;
using GgufOptimize.Common;

namespace GgufOptimize.Reporting;

/// <summary>
/// Where each comparison goes in the report, from what the files record and never from the order they were given
/// in: grouped by quantization type (types by bits per weight, then name); within a type the step without an imatrix
/// first — the reference step — then by calibration size, then iteration and file name. Steps whose files do not
/// tell whether an imatrix was used come last.
/// </summary>
internal static class ComparisonOrder
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    public const string UnknownType = "unknown type";

    /// <summary>The types with their comparisons in report order.</summary>
    public static IReadOnlyList<(string Type, IReadOnlyList<ComparisonData> Steps)> Arrange(IReadOnlyList<ComparisonData> comparisons)
    {
        RequireOneBaseline(comparisons);
        return comparisons
            .GroupBy(c => c.Type ?? UnknownType)
            .Select(g => (Type: g.Key, Steps: (IReadOnlyList<ComparisonData>)g
                .OrderBy(c => c.UsesImatrix switch { false => 0, true => 1, null => 2 })
                .ThenBy(c => c.CalibrationSize ?? double.PositiveInfinity)
                .ThenBy(c => c.Iteration ?? int.MaxValue)
                .ThenBy(c => c.Label, StringComparer.Ordinal)
                .ThenBy(c => c.Path, StringComparer.Ordinal)
                .ToList()))
            .OrderBy(t => t.Type == UnknownType)
            .ThenBy(t => Median(t.Steps.Select(s => s.BitsPerWeight).OfType<double>().ToList()))
            .ThenBy(t => t.Type, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Iteration numbers: the ones iterate recorded when every step has a distinct one, else 0, 1, 2 … in report order.</summary>
    public static IReadOnlyList<int> Iterations(IReadOnlyList<ComparisonData> steps)
    {
        var recorded = steps.Select(s => s.Iteration).ToList();
        return recorded.All(i => i is not null) && recorded.Distinct().Count() == recorded.Count && recorded.SequenceEqual(recorded.Order())
            ? recorded.Select(i => i!.Value).ToList()
            : Enumerable.Range(0, steps.Count).ToList();
    }

    /// <summary>Which step the others are measured against, and why, in one or two sentences.</summary>
    public static string Reference(string type, IReadOnlyList<ComparisonData> steps)
    {
        var first = steps[0];
        string others = steps.Count == 1 ? "it is the only step" : $"the other {steps.Count - 1} step(s) follow by calibration size";
        string text = first.UsesImatrix switch
        {
            false => $"Reference step of {type}: {File(first)}, quantized without an imatrix ({first.ImatrixSource}); {others}.",
            true => $"No {type} comparison records a quantization without an imatrix, so the smallest calibration is the reference step: {File(first)} ({first.ImatrixSource}); {others}.",
            null => $"No {type} comparison records whether an imatrix was used, so the steps are in file-name order and the first, {File(first)}, is the reference step.",
        };
        var unknown = steps.Where(s => s.UsesImatrix is null).ToList();
        if (first.UsesImatrix is not null && unknown.Count > 0)
            text += $" {string.Join(", ", unknown.Select(File))} record{(unknown.Count == 1 ? "s" : "")} nothing about an imatrix and {(unknown.Count == 1 ? "is" : "are")} placed last.";
        return text;
    }

    /// <summary>Comparisons against different baselines (model or evaluation text or context) cannot share a table.</summary>
    private static void RequireOneBaseline(IReadOnlyList<ComparisonData> comparisons)
    {
        var keyed = comparisons.Where(c => c.BaselineKey is not null).ToList();
        var first = keyed.FirstOrDefault();
        var other = keyed.FirstOrDefault(c => c.BaselineKey != first?.BaselineKey);
        if (first is null || other is null) return;
        string a = Describe(first), b = Describe(other);
        if (a == b) (a, b) = ($"{a}, {first.BaselineKey![..12]}…", $"{b}, {other.BaselineKey![..12]}…");
        throw GgufOptimizeException.BadInput($"'{first.Path}' and '{other.Path}' were measured against different baselines ({a} vs {b}): report each baseline's comparisons separately");
    }

    private static string Describe(ComparisonData c) =>
        $"{c.Baseline ?? "?"}{(c.Dataset is { } d ? $" on {d}" : "")}{(c.ContextSize is { } n ? $", n_ctx {n.ToString(Inv)}" : "")}";

    private static string File(ComparisonData c) => Path.GetFileName(c.Path);

    private static double Median(IReadOnlyList<double> values) =>
        values.Count == 0 ? double.PositiveInfinity : values.Order().ElementAt(values.Count / 2);
}
