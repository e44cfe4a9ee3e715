using System.Globalization;
using System.Text;
using GgufOptimize.Common;
using GgufOptimize.Reporting;

namespace GgufOptimize.Recipes;

/// <summary>The table's files: JSON (what <c>recipe</c> reads), CSV, Markdown, and one heat map per type.</summary>
internal static class SensitivityFiles
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static SensitivityTable Read(string path) => RecipeJson.Read<SensitivityTable>(path, "--sensitivity");

    /// <summary>The heat maps and tables first, the JSON last: a JSON file means a finished run.</summary>
    public static void WriteAll(SensitivityTable table, string jsonPath)
    {
        string stem = Path.ChangeExtension(jsonPath, null);
        AtomicFile.WriteAllText(stem + ".csv", Csv(table));
        foreach (var type in table.Types)
            SensitivityHeatmap.Write(table, type, $"{stem}-{type}.png");
        AtomicFile.WriteAllText(stem + ".md", Markdown(table, Path.GetFileName(stem)));
        AtomicFile.WriteAllText(jsonPath, RecipeJson.Write(table));
    }

    public static string Csv(SensitivityTable table)
    {
        var b = new StringBuilder("group,layer,kind,type,actual_type,bytes,delta_mean_kld,delta_se,mean_kld,score\n");
        var groups = table.Groups.ToDictionary(g => g.Name);
        foreach (var e in table.Entries)
        {
            var g = groups[e.Group];
            b.Append(Inv, $"{e.Group},{g.Layer?.ToString(Inv) ?? ""},{g.Kind},{e.Type},{e.ActualType},{e.Bytes},{e.Delta:G6},{e.DeltaSe:G4},{e.MeanKld:G6},{e.Score:G6}\n");
        }
        return b.ToString();
    }

    public static string Markdown(SensitivityTable table, string stem)
    {
        var b = new StringBuilder();
        b.Append(Inv, $"# Sensitivity of {Path.GetFileName(table.Model)}\n\n");
        b.Append(Inv, $"Mean-KLD increase (nats) when only the group is quantized to the type and every other tensor stays {table.Reference}; paired on {table.Chunks.Count} chunks ({table.Tokens:N0} tokens) of `{Path.GetFileName(table.BaselineLogits)}`. Reference mix mean KLD {table.ReferenceMeanKld:G3}. ± = standard error over chunks; a type in brackets is what llama.cpp stored instead (row length).\n\n");
        b.Append("| group | " + string.Join(" | ", table.Types) + " |\n|---|" + string.Concat(table.Types.Select(_ => "---:|")) + "\n");
        foreach (var g in table.Groups)
        {
            b.Append(Inv, $"| {g.Name} |");
            foreach (var t in table.Types)
            {
                var e = table.Find(g.Name, t);
                if (e is null) { b.Append(" |"); continue; }
                string actual = e.ActualType == t ? "" : $" [{e.ActualType}]";
                b.Append(Inv, $" {e.Delta:G3} ± {e.DeltaSe:G2}{actual} |");
            }
            b.Append('\n');
        }
        b.Append("\n## Additivity\n\nAll groups at one type: the sum of the single-group increases (predicted) against the measured increase.\n\n");
        b.Append("| type | predicted | measured | measured / predicted |\n|---|---:|---:|---:|\n");
        foreach (var a in table.Additivity)
            b.Append(Inv, $"| {a.Type} | {a.Predicted:G3} ± {a.PredictedSe:G2} | {a.Measured:G3} ± {a.MeasuredSe:G2} | {(a.Predicted != 0 ? (a.Measured / a.Predicted).ToString("F2", Inv) : "–")} |\n");
        b.Append(Inv, $"\nCorrection factor used by `recipe` (least squares through the origin): {table.AdditivityFactor:F3}.\n\n");
        b.Append(Inv, $"{table.Measurements} measurements: {table.QuantizeSeconds:F0} s quantizing, {table.KldSeconds:F0} s comparing.");
        if (table.StoppedEarly > 0)
            b.Append(Inv, $" Early stopping decided {table.StoppedEarly} of them before the last chunk: {table.ChunksCompared:N0} chunks compared instead of {(long)table.Measurements * table.Chunks.Count:N0}.");
        b.Append("\n\n");
        foreach (var t in table.Types) b.Append(Inv, $"![{t}]({stem}-{t}.png)\n");
        return b.ToString();
    }
}
