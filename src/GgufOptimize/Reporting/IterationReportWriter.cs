using GgufOptimize.Common;

namespace GgufOptimize.Reporting;

/// <summary>The files of a report folder.</summary>
internal sealed record WrittenReport(IterationReport Report, string Folder, string Markdown, string Json, string Csv, string Html, IReadOnlyList<string> Images);

/// <summary>
/// Writes a report folder from comparison files: <c>report.md</c>, <c>report.json</c>, <c>report.csv</c>, one PNG
/// per plot and <c>report.html</c> showing them all. Every file is replaced atomically.
/// </summary>
internal static class IterationReportWriter
{
    public static WrittenReport Write(IReadOnlyList<string> comparisonFiles, string folder, ReportOptions options, string? title = null)
    {
        if (comparisonFiles.Count == 0) throw GgufOptimizeException.BadInput("no comparison files to report on");
        var data = comparisonFiles.Select(ComparisonReader.Read).ToList();
        // Built before the folder is made: a refused set of files (e.g. mixed baselines) leaves nothing behind.
        var report = IterationReport.Build(data, options);
        var sensitivity = options.SensitivityPath is null ? null : Recipes.SensitivityFiles.Read(options.SensitivityPath);
        OutputPaths.EnsureWritableFolder(folder, "report folder");
        using var claim = OutputLock.Acquire(folder, "--output");
        var plots = ReportPlots.Render(report, folder, sensitivity);
        RemoveStalePlots(folder, plots);
        string md = Path.Combine(folder, "report.md"), json = Path.Combine(folder, "report.json"), csv = Path.Combine(folder, "report.csv"), html = Path.Combine(folder, "report.html");
        AtomicFile.WriteAllText(md, ReportTables.Markdown(report));
        AtomicFile.WriteAllText(json, ReportTables.Json(report).ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        AtomicFile.WriteAllText(csv, ReportTables.Csv(report));
        AtomicFile.WriteAllText(html, HtmlReport.Render(report, plots, folder, title ?? "gguf-optimize report"));
        return new WrittenReport(report, folder, md, json, csv, html, plots.Select(p => Path.Combine(folder, p.FileName)).ToList());
    }

    /// <summary>Plots of an earlier report in the same folder (e.g. of a type no longer compared) would mislead.</summary>
    private static void RemoveStalePlots(string folder, IReadOnlyList<PlotImage> current)
    {
        var keep = current.Select(p => p.FileName).ToHashSet(StringComparer.Ordinal);
        foreach (var pattern in new[] { "chunks_*.png", "kld_cdf_*.png", "score_vs_*.png", "sensitivity_*.png" })
            foreach (var file in Directory.EnumerateFiles(folder, pattern))
                if (!keep.Contains(Path.GetFileName(file))) FileStep.Delete(file);
    }
}
