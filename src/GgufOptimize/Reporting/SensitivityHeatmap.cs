using GgufOptimize.Recipes;
using ScottPlot;

namespace GgufOptimize.Reporting;

/// <summary>One type's sensitivities as a heat map: a row per layer (plus the whole-model groups), a column per tensor kind.</summary>
internal static class SensitivityHeatmap
{
    public static void Write(SensitivityTable table, string type, string path)
    {
        var kinds = table.Groups.Select(g => g.Kind).Distinct().ToList();
        var rows = table.Groups.Select(g => g.Layer is int l ? $"layer {l}" : g.Kind is "token_embd" or "output" ? "" : "all layers").Distinct().Where(r => r.Length > 0).ToList();
        bool whole = table.Groups.Any(g => g.Kind is "token_embd" or "output");
        if (whole) rows.Insert(0, "whole");
        var values = new double[rows.Count, kinds.Count];
        for (int r = 0; r < rows.Count; r++)
            for (int c = 0; c < kinds.Count; c++) values[r, c] = double.NaN;
        foreach (var g in table.Groups)
        {
            var e = table.Find(g.Name, type);
            if (e is null) continue;
            string row = g.Layer is int l ? $"layer {l}" : g.Kind is "token_embd" or "output" ? "whole" : "all layers";
            values[rows.IndexOf(row), kinds.IndexOf(g.Kind)] = e.Delta;
        }
        var plot = new Plot();
        plot.Title($"Mean-KLD increase, one group at {type} ({Path.GetFileName(table.Model)})");
        plot.Font.Set("DejaVu Sans");
        var map = plot.Add.Heatmap(values);
        map.Colormap = new ScottPlot.Colormaps.Viridis();
        map.NaNCellColor = Colors.Transparent;
        // Row r of the array is drawn from the top: cell centres at y = rows − 1 − r, x = column index.
        map.Position = new CoordinateRect(-0.5, kinds.Count - 0.5, -0.5, rows.Count - 0.5);
        plot.Add.ColorBar(map).Label = "Δ mean KLD (nats)";
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, rows.Count).Select(r => (double)(rows.Count - 1 - r)).ToArray(), rows.ToArray());
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, kinds.Count).Select(c => (double)c).ToArray(), kinds.ToArray());
        plot.Axes.Margins(0, 0);
        string temp = Common.AtomicFile.TempName(path);
        plot.SavePng(temp, 900, Math.Max(300, 120 + 40 * rows.Count));
        Common.FileStep.Move(temp, path, overwrite: true);
    }
}
