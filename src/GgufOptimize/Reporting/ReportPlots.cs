using System.Globalization;
using ScottPlot;

namespace GgufOptimize.Reporting;

/// <summary>A rendered plot: where it went and what it shows.</summary>
internal sealed record PlotImage(string FileName, string Title, string Caption);

/// <summary>
/// The report's plots as PNG files (ScottPlot): Score against calibration size per type (with intervals), the
/// composite score of every chunk per comparison (llama-gguf-optimize's "Composite Metrics by Chunk"), the KLD
/// distribution as a CDF on a log axis, Score against bits per weight across types (recipes beside llama.cpp's
/// types), and, given a sensitivity table, its heat maps.
/// </summary>
internal static class ReportPlots
{
    private const int Width = 900, Height = 520;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static readonly IPalette Palette = new ScottPlot.Palettes.Category10();

    /// <summary>Types whose name starts with this are recipes (iterate names them so): drawn apart on the bits-per-weight plot.</summary>
    public const string RecipePrefix = "recipe-";

    public static bool IsRecipe(string type) => type.StartsWith(RecipePrefix, StringComparison.Ordinal);

    public static IReadOnlyList<PlotImage> Render(IterationReport report, string folder, Recipes.SensitivityTable? sensitivity = null)
    {
        Common.FileStep.CreateDirectory(folder);
        var images = new List<PlotImage> { ScoreVersusCalibration(report, folder) };
        foreach (var t in report.Types)
        {
            images.Add(ChunkScores(t, folder));
            images.Add(KldDistribution(t, folder));
        }
        if (report.Rows.Any(r => r.Data.BitsPerWeight is not null)) images.Add(ScoreVersusBits(report, folder));
        foreach (var row in report.Rows.Where(r => r.Data.StoppingTrace.Count > 0).Take(MaxStoppingPlots))
            images.Add(StoppingInterval(row.Data, folder));
        if (report.Rows.Any(r => r.Data.Chunks is { Count: > 0 })) images.Add(ChunkHeatmap(report, folder));
        if (sensitivity is not null)
            foreach (var type in sensitivity.Types)
                images.Add(Sensitivity(sensitivity, type, folder));
        return images;
    }

    private static PlotImage ScoreVersusCalibration(IterationReport report, string folder)
    {
        var plot = NewPlot("Score vs calibration size", "calibration data (iteration)", "Score (lower is better)");
        var labels = new SortedDictionary<int, string>();
        for (int ti = 0; ti < report.Types.Count; ti++)
        {
            var t = report.Types[ti];
            var color = Palette.GetColor(ti);
            double[] xs = t.Rows.Select(r => (double)r.Iteration).ToArray();
            double[] ys = t.Rows.Select(r => r.Data.Score).ToArray();
            var line = plot.Add.Scatter(xs, ys, color);
            line.LegendText = t.Type;
            line.MarkerSize = 8;
            line.LineWidth = 2;
            var withCi = t.Rows.Where(r => r.Interval is not null).ToList();
            if (withCi.Count > 0)
            {
                var bars = plot.Add.ErrorBar(withCi.Select(r => (double)r.Iteration).ToArray(), withCi.Select(r => r.Data.Score).ToArray(),
                    withCi.Select(r => Math.Max(0, r.Data.Score - r.Interval!.Lower)).ToArray());
                bars.YErrorPositive = withCi.Select(r => Math.Max(0, r.Interval!.Upper - r.Data.Score)).ToArray();
                bars.Color = color;
                bars.LineWidth = 1.5f;
            }
            var best = t.Rows.First(r => r.IsBest);
            var ring = plot.Add.Markers(new double[] { best.Iteration }, new double[] { best.Data.Score }, MarkerShape.OpenCircle, 18, color);
            ring.MarkerLineWidth = 2;
            foreach (var r in t.Rows) labels.TryAdd(r.Iteration, r.Iteration == 0 && r.Calibration == "none" ? "none" : $"{r.Iteration}: {r.Calibration}");
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(labels.Keys.Select(k => (double)k).ToArray(), labels.Values.ToArray());
        plot.Axes.Margins(0.08, 0.12);
        plot.ShowLegend(Edge.Right);
        return Save(plot, folder, "score_vs_calibration.png", "Score vs calibration size",
            "Composite Score of each type at each calibration size, with its bootstrap interval; the circled point is the chosen (best) iteration.");
    }

    /// <summary>Beyond this many chunks grouped bars become slivers: each step is drawn as a line instead.</summary>
    public const int MaxChunksAsBars = 40;

    private static PlotImage ChunkScores(TypeSection t, string folder)
    {
        var plot = NewPlot($"Composite Metrics by Chunk — {t.Type}", "chunk", "composite score");
        var chunkIds = t.Rows.SelectMany(r => r.Data.ChunkScores.Select(c => c.Chunk)).Distinct().Order().ToList();
        bool asLines = chunkIds.Count > MaxChunksAsBars;
        if (asLines) ChunkLines(plot, t);
        else ChunkBars(plot, t, chunkIds);
        plot.Axes.Margins(bottom: 0);
        plot.ShowLegend(Edge.Right);
        string how = asLines
            ? $"one line per step ({chunkIds.Count} chunks are too many for bars)"
            : "one bar per step";
        return Save(plot, folder, $"chunks_{Safe(t.Type)}.png", $"Composite score by chunk — {t.Type}",
            $"Composite score of every evaluation chunk, {how}: where a step helps or hurts, and how much the chunks vary.");
    }

    private static void ChunkBars(Plot plot, TypeSection t, IReadOnlyList<int> chunkIds)
    {
        int series = t.Rows.Count;
        double width = 0.8 / series;
        var position = chunkIds.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => (double)x.i);
        for (int s = 0; s < series; s++)
        {
            var row = t.Rows[s];
            var color = Palette.GetColor(s);
            var bars = row.Data.ChunkScores.Where(c => double.IsFinite(c.Score)).Select(c => new Bar
            {
                Position = position[c.Chunk] - 0.4 + width * (s + 0.5),
                Value = c.Score,
                Size = width,
                FillColor = color,
                LineWidth = 0,
            }).ToArray();
            plot.Add.Bars(bars);
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = StepName(row), FillColor = color });
        }
        int step = Math.Max(1, chunkIds.Count / 20);
        var ticks = chunkIds.Select((c, i) => (c, i)).Where(x => x.i % step == 0).ToList();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.Select(x => (double)x.i).ToArray(), ticks.Select(x => x.c.ToString(Inv)).ToArray());
    }

    private static void ChunkLines(Plot plot, TypeSection t)
    {
        for (int s = 0; s < t.Rows.Count; s++)
        {
            var row = t.Rows[s];
            var points = row.Data.ChunkScores.Where(c => double.IsFinite(c.Score)).ToList();
            var line = plot.Add.Scatter(points.Select(c => (double)c.Chunk).ToArray(), points.Select(c => c.Score).ToArray(), Palette.GetColor(s));
            line.LineWidth = 1.5f;
            line.MarkerSize = points.Count > 200 ? 0 : 3;
            line.LegendText = StepName(row);
        }
    }

    /// <summary>How a step is named in legends: its iteration and calibration.</summary>
    private static string StepName(ReportRow row) => $"{row.Iteration}: {row.Calibration}";

    private static PlotImage KldDistribution(TypeSection t, string folder)
    {
        var plot = NewPlot($"KLD distribution — {t.Type}", "KL-divergence (nats, log scale)", "fraction of tokens ≤ x");
        const double floor = 1e-7;
        for (int s = 0; s < t.Rows.Count; s++)
        {
            var row = t.Rows[s];
            var (xs, ys) = Cdf(row.Data, floor);
            if (xs.Length == 0) continue;
            var line = plot.Add.ScatterLine(xs, ys, Palette.GetColor(s));
            line.LineWidth = 2;
            line.LegendText = StepName(row) + (row.Data.Chunks is null ? " (from percentiles)" : "");
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            IntegerTicksOnly = true,
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            LabelFormatter = v => "1e" + v.ToString("0", Inv),
        };
        plot.Axes.SetLimitsY(0, 1);
        plot.ShowLegend(Edge.Right);
        return Save(plot, folder, $"kld_cdf_{Safe(t.Type)}.png", $"KLD distribution — {t.Type}",
            $"Cumulative distribution of the per-token KL-divergence of each iteration (x = log10 of KLD, values below {floor:0e0} drawn at {floor:0e0}); further left is better.");
    }

    private static PlotImage ScoreVersusBits(IterationReport report, string folder)
    {
        var plot = NewPlot("Score vs bits per weight", "bits per weight", "Score (lower is better)");
        var allBits = report.Rows.Where(r => r.Data.BitsPerWeight is not null).Select(r => r.Data.BitsPerWeight!.Value).ToList();
        double middle = (allBits.Min() + allBits.Max()) / 2;
        var chosen = new List<(bool Recipe, double Bits, double Score)>();
        for (int ti = 0; ti < report.Types.Count; ti++)
        {
            var t = report.Types[ti];
            var rows = t.Rows.Where(r => r.Data.BitsPerWeight is not null).ToList();
            if (rows.Count == 0) continue;
            var color = Palette.GetColor(ti);
            bool recipe = IsRecipe(t.Type);
            var markers = plot.Add.Markers(rows.Select(r => r.Data.BitsPerWeight!.Value).ToArray(), rows.Select(r => r.Data.Score).ToArray(),
                recipe ? MarkerShape.FilledTriangleUp : MarkerShape.FilledCircle, recipe ? 11 : 9, color);
            markers.LegendText = t.Type;
            var best = rows.FirstOrDefault(r => r.IsBest);
            if (best is not null)
            {
                chosen.Add((recipe, best.Data.BitsPerWeight!.Value, best.Data.Score));
                plot.Add.Markers(new[] { best.Data.BitsPerWeight!.Value }, new[] { best.Data.Score }, MarkerShape.OpenCircle, 20, color).MarkerLineWidth = 2;
                var label = plot.Add.Text($"{t.Type} ({best.Calibration})", best.Data.BitsPerWeight!.Value, best.Data.Score);
                label.LabelFontSize = 12;
                label.LabelFontColor = color;
                // Labels point inwards so the outermost types are not cut off at the plot's edge.
                bool right = best.Data.BitsPerWeight!.Value > middle;
                label.Alignment = right ? Alignment.MiddleRight : Alignment.MiddleLeft;
                label.OffsetX = right ? -14 : 14;
            }
        }
        // With recipes present, each family's chosen points are joined in order of size: the two curves to compare.
        bool recipes = chosen.Any(c => c.Recipe);
        if (recipes)
            foreach (var (family, pattern, name) in new[] { (false, LinePattern.Dashed, "llama.cpp types (chosen)"), (true, LinePattern.Solid, "recipes (chosen)") })
            {
                var points = chosen.Where(c => c.Recipe == family).OrderBy(c => c.Bits).ToList();
                if (points.Count < 2) continue;
                var line = plot.Add.ScatterLine(points.Select(p => p.Bits).ToArray(), points.Select(p => p.Score).ToArray(), Colors.Gray);
                line.LinePattern = pattern;
                line.LineWidth = 1.5f;
                line.LegendText = name;
            }
        plot.Axes.Margins(0.2, 0.15);
        plot.ShowLegend(Edge.Right);
        return Save(plot, folder, "score_vs_bpw.png", "Score vs bits per weight",
            "Every comparison by its file's bits per weight; circled: each type's chosen iteration. Lower and further left is a better trade."
            + (recipes ? " Triangles are recipes (a type per tensor group), circles llama.cpp's types; the lines join each family's chosen points." : ""));
    }

    private static PlotImage Sensitivity(Recipes.SensitivityTable table, string type, string folder)
    {
        string name = $"sensitivity_{Safe(type)}.png";
        SensitivityHeatmap.Write(table, type, Path.Combine(folder, name));
        return new PlotImage(name, $"Sensitivity at {type}",
            $"How much the mean KL-divergence grows when only one tensor group is quantized to {type} (everything else at {table.Reference}), "
            + $"measured by `sensitivity` on {table.Chunks.Count} chunks: one row per layer, one column per tensor kind; brighter = more sensitive.");
    }

    /// <summary>Up to 400 points of the empirical CDF (exact, from every token), or a line through the stored percentiles.</summary>
    private static (double[] Xs, double[] Ys) Cdf(ComparisonData data, double floor)
    {
        if (data.Chunks is { } chunks)
        {
            var all = chunks.SelectMany(c => c.Kld).Where(double.IsFinite).ToArray();
            if (all.Length == 0) return ([], []);
            Array.Sort(all);
            int points = Math.Min(400, all.Length);
            var xs = new double[points];
            var ys = new double[points];
            for (int i = 0; i < points; i++)
            {
                int idx = (int)((long)i * (all.Length - 1) / Math.Max(1, points - 1));
                xs[i] = Math.Log10(Math.Max(floor, all[idx]));
                ys[i] = (idx + 1.0) / all.Length;
            }
            return (xs, ys);
        }
        var known = new (string Name, double P)[]
        {
            ("Minimum", 0), ("KLD_01", 0.01), ("KLD_05", 0.05), ("KLD_10", 0.10), ("Median", 0.5), ("KLD_90", 0.90),
            ("KLD_95", 0.95), ("KLD_99", 0.99), ("Maximum", 1),
        }.Where(k => double.IsFinite(data.Stat(k.Name))).ToList();
        return (known.Select(k => Math.Log10(Math.Max(floor, data.Stat(k.Name)))).ToArray(), known.Select(k => k.P).ToArray());
    }

    /// <summary>One plot per early-stopped comparison, for the first this many (a report of hundreds would drown in them).</summary>
    public const int MaxStoppingPlots = 12;

    private static PlotImage StoppingInterval(ComparisonData data, string folder)
    {
        var trace = data.StoppingTrace;
        var plot = NewPlot($"Early stopping — {data.Label}", "chunks compared (seeded random order)", "Score of the whole range");
        double[] xs = trace.Select(l => (double)l.Chunks).ToArray();
        var estimate = plot.Add.Scatter(xs, trace.Select(l => l.Estimate).ToArray(), Palette.GetColor(0));
        estimate.LegendText = "estimate";
        estimate.MarkerSize = 7;
        var band = plot.Add.ErrorBar(xs, trace.Select(l => l.Estimate).ToArray(), trace.Select(l => Math.Max(0, l.Estimate - l.Lower)).ToArray());
        band.YErrorPositive = trace.Select(l => Math.Max(0, l.Upper - l.Estimate)).ToArray();
        band.Color = Palette.GetColor(0);
        band.LineWidth = 1.5f;
        var last = trace[^1];
        string outcome = last.Stop
            ? $"stopped after {last.Chunks} chunks: the interval fit within ±{data.StoppingMargin?.ToString("0.##%", Inv) ?? "the margin"}"
            : "the interval never narrowed enough, so every chunk was compared";
        if (data.StoppingMargin is double m && double.IsFinite(data.Score))
        {
            // The band a stopping interval has to fit in, around the final Score.
            foreach (double y in new[] { data.Score / (1 + m), data.Score * (1 + m) })
            {
                var line = plot.Add.HorizontalLine(y, 1, Palette.GetColor(1), LinePattern.Dashed);
                line.LegendText = y > data.Score ? $"final Score ±{m.ToString("0.##%", Inv)}" : "";
            }
        }
        plot.ShowLegend(Edge.Right);
        return Save(plot, folder, $"stopping_{Safe(data.Label)}.png", $"Early stopping — {data.Label}",
            $"The interval of the whole range's Score at each look of the early-stopping rule, narrowing as chunks are added; {outcome}.");
    }

    private static PlotImage ChunkHeatmap(IterationReport report, string folder)
    {
        var rows = report.Rows.Where(r => r.Data.Chunks is { Count: > 0 }).ToList();
        var chunkIds = rows.SelectMany(r => r.Data.Chunks!.Select(c => c.ChunkIndex)).Distinct().Order().ToList();
        var column = chunkIds.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
        var values = new double[rows.Count, chunkIds.Count];
        for (int r = 0; r < rows.Count; r++)
        {
            for (int c = 0; c < chunkIds.Count; c++) values[r, c] = double.NaN;
            foreach (var chunk in rows[r].Data.Chunks!)
            {
                var finite = chunk.Kld.Where(double.IsFinite).ToArray();
                if (finite.Length > 0) values[r, column[chunk.ChunkIndex]] = finite.Average();
            }
        }
        var plot = NewPlot("Mean KLD per chunk, files × chunks", "chunk", "");
        var map = plot.Add.Heatmap(values);
        map.Colormap = new ScottPlot.Colormaps.Viridis();
        map.NaNCellColor = Colors.Transparent;
        // ScottPlot draws row 0 of the array at the top, one unit per cell, centred on whole numbers: row r at
        // y = rows − 1 − r, column c at x = c (checked on a rendered map).
        plot.Add.ColorBar(map).Label = "mean KLD (nats)";
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, rows.Count).Select(r => (double)(rows.Count - 1 - r)).ToArray(), rows.Select(r => r.Data.Label).ToArray());
        int step = Math.Max(1, chunkIds.Count / 20);
        var ticks = chunkIds.Select((c, i) => (c, i)).Where(x => x.i % step == 0).ToList();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.Select(x => (double)x.i).ToArray(), ticks.Select(x => x.c.ToString(Inv)).ToArray());
        plot.Axes.Margins(0, 0);
        return Save(plot, folder, "heatmap_chunks.png", "Mean KLD per chunk across files",
            "One row per comparison file, one column per evaluation chunk, colour = mean KL-divergence of the chunk: text that every quantization finds hard shows as a column, a file that is worse everywhere as a row; blank cells are chunks a file did not compare (early stopping).");
    }

    private static Plot NewPlot(string title, string x, string y)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(x);
        plot.YLabel(y);
        plot.Font.Set("DejaVu Sans");
        return plot;
    }

    private static PlotImage Save(Plot plot, string folder, string name, string title, string caption)
    {
        string path = Path.Combine(folder, name);
        string temp = Common.AtomicFile.TempName(path);
        plot.SavePng(temp, Width, Height);
        Common.FileStep.Move(temp, path, overwrite: true);
        return new PlotImage(name, title, caption);
    }

    private static string Safe(string name) => new(name.Select(ch => char.IsLetterOrDigit(ch) || ch is '_' or '-' ? ch : '_').ToArray());
}
