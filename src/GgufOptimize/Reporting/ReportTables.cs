using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using GgufOptimize.Common;

namespace GgufOptimize.Reporting;

/// <summary>The report's table as Markdown (for people), JSON and CSV (for scripts).</summary>
internal static class ReportTables
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Column names of the table (Markdown and HTML).</summary>
    public static readonly string[] Header =
    [
        "Type", "It.", "Calibration", "Median", "KLD_90", "KLD_95", "KLD_99", "Mean KLD", "PPL ratio", "Same top p",
        "Score [CI]", "vs previous", "Size", "BPW", "Best",
    ];

    public static string Markdown(IterationReport report)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"Measured against the {report.Baseline}.");
        sb.AppendLine();
        sb.Append("| ").AppendJoin(" | ", Header).AppendLine(" |");
        sb.Append('|').AppendJoin("", Header.Select(h => h is "Type" or "Calibration" or "Best" ? "---|" : "---:|")).AppendLine();
        foreach (var row in report.Rows)
            sb.Append("| ").AppendJoin(" | ", Cells(row)).AppendLine(" |");
        sb.AppendLine();
        foreach (var t in report.Types)
        {
            var best = t.Rows.First(r => r.IsBest);
            sb.AppendLine($"- **{t.Type}**: best is iteration {best.Iteration} ({best.Calibration}), {t.Best.Reason}; {t.Verdict}.");
            sb.AppendLine($"  {t.Reference}");
        }
        sb.AppendLine();
        sb.AppendLine("Conclusion:");
        foreach (var c in report.Conclusions) sb.AppendLine($"- {c}");
        sb.AppendLine();
        foreach (var (term, meaning) in Definitions(report)) sb.AppendLine($"{term}: {meaning}.  ");
        foreach (var note in report.Notes) sb.AppendLine($"Note: {note}.");
        return sb.ToString();
    }

    /// <summary>What the Score, the columns and the marks of the table mean (Markdown and HTML show the same words).</summary>
    public static IReadOnlyList<(string Term, string Meaning)> Definitions(IterationReport report)
    {
        string confidence = report.Options.Bootstrap.Confidence.ToString("P0", Inv);
        return
        [
            ("Score", "Median^(1/3)·(KLD_99 + 4·KLD_95 + 5·KLD_90)^(2/3) of the per-token KL-divergence between the baseline's and the quantized model's "
                + "next-token distributions — the typical divergence weighted with the bad tails; lower is better, 0 = identical"),
            ("[CI]", $"{confidence} interval of the Score from a chunk-block bootstrap ({report.Options.Bootstrap.Resamples.ToString(Inv)} resamples)"),
            ("vs previous", $"paired relative change of the Score against the row above, on the same tokens, with its {confidence} interval; "
                + "✔ = significant (the interval excludes 0), n.s. = not significant"),
            ("Best (✓)", "the chosen step of its type: the lowest Score, or an earlier step that is not significantly worse"),
            ("PPL ratio", "perplexity of the quantized model divided by the baseline's on the evaluation text; 1 = same"),
            ("Same top p", "share of tokens where both models rank the same token first"),
            ("Size, BPW", "file size of the quantized model and its tensor bits per weight"),
        ];
    }

    /// <summary>The cells of one row, in <see cref="Header"/> order.</summary>
    public static string[] Cells(ReportRow row)
    {
        var d = row.Data;
        return
        [
            row.Type, row.Iteration.ToString(Inv), row.Calibration,
            G(d.Stat("Median")), G(d.Stat("KLD_90")), G(d.Stat("KLD_95")), G(d.Stat("KLD_99")), G(d.Stat("Average")),
            F(d.Stat("PPL_ratio"), "F4"), Percent(d.Stat("Same_top_p")),
            row.Interval is { } ci ? $"{G(d.Score)} [{G(ci.Lower)}, {G(ci.Upper)}]" : G(d.Score),
            Change(row), d.TargetBytes is { } b ? Units.Bytes((long)b) : "", d.BitsPerWeight is { } bpw ? bpw.ToString("F2", Inv) : "",
            row.IsBest ? "✓" : "",
        ];
    }

    public static JsonObject Json(IterationReport report)
    {
        var types = new JsonArray();
        foreach (var t in report.Types)
        {
            var rows = new JsonArray();
            foreach (var row in t.Rows)
            {
                var d = row.Data;
                var stats = new JsonObject();
                foreach (var (k, v) in d.Overall.OrderBy(kv => kv.Key, StringComparer.Ordinal)) stats[k] = Number(v);
                var obj = new JsonObject
                {
                    ["file"] = Path.GetFileName(d.Path),
                    ["iteration"] = row.Iteration,
                    ["calibration"] = row.Calibration,
                    ["calibration_size"] = d.CalibrationSize is { } cs ? Number(cs) : null,
                    ["imatrix"] = d.UsesImatrix,
                    ["score"] = Number(d.Score),
                    ["score_lower"] = row.Interval is { } ci ? Number(ci.Lower) : null,
                    ["score_upper"] = row.Interval is { } cu ? Number(cu.Upper) : null,
                    ["target_bytes"] = d.TargetBytes is { } b ? Number(b) : null,
                    ["bits_per_weight"] = d.BitsPerWeight is { } bpw ? Number(bpw) : null,
                    ["best"] = row.IsBest,
                    ["statistics"] = stats,
                };
                if (row.VersusPrevious is { } decision)
                {
                    var p = decision.Comparison;
                    obj["vs_previous"] = new JsonObject
                    {
                        ["relative_change"] = Number(p.RelativeChange),
                        ["relative_change_lower"] = Number(p.RelativeChangeLower),
                        ["relative_change_upper"] = Number(p.RelativeChangeUpper),
                        ["significant"] = p.IsSignificant,
                        ["continue"] = decision.Continue,
                        ["reason"] = decision.Reason,
                    };
                }
                rows.Add(obj);
            }
            types.Add(new JsonObject
            {
                ["type"] = t.Type,
                ["best_iteration"] = t.Best.Iteration,
                ["lowest_score_iteration"] = t.Best.LowestScoreIteration,
                ["best_reason"] = t.Best.Reason,
                ["verdict"] = t.Verdict,
                ["reference"] = t.Reference,
                ["iterations"] = rows,
            });
        }
        var notes = new JsonArray();
        foreach (var n in report.Notes) notes.Add(n);
        var conclusions = new JsonArray();
        foreach (var c in report.Conclusions) conclusions.Add(c);
        return new JsonObject
        {
            ["baseline"] = report.Baseline,
            ["conclusions"] = conclusions,
            ["confidence"] = report.Options.Bootstrap.Confidence,
            ["resamples"] = report.Options.Bootstrap.Resamples,
            ["min_improvement"] = report.Options.MinImprovement,
            ["types"] = types,
            ["notes"] = notes,
        };
    }

    public static string Csv(IterationReport report)
    {
        var sb = new StringBuilder();
        sb.AppendLine("type,iteration,calibration,calibration_size,median,kld_90,kld_95,kld_99,mean_kld,ppl_ratio,same_top_p,score,score_lower,score_upper,"
            + "change_vs_previous,change_lower,change_upper,significant,target_bytes,bits_per_weight,best,file");
        foreach (var row in report.Rows)
        {
            var d = row.Data;
            var p = row.VersusPrevious?.Comparison;
            string[] cells =
            [
                Quote(row.Type), row.Iteration.ToString(Inv), Quote(row.Calibration), Num(d.CalibrationSize),
                Num(d.Stat("Median")), Num(d.Stat("KLD_90")), Num(d.Stat("KLD_95")), Num(d.Stat("KLD_99")), Num(d.Stat("Average")),
                Num(d.Stat("PPL_ratio")), Num(d.Stat("Same_top_p")), Num(d.Score), Num(row.Interval?.Lower), Num(row.Interval?.Upper),
                Num(p?.RelativeChange), Num(p?.RelativeChangeLower), Num(p?.RelativeChangeUpper), p is null ? "" : p.IsSignificant ? "true" : "false",
                Num(d.TargetBytes), Num(d.BitsPerWeight), row.IsBest ? "true" : "false", Quote(Path.GetFileName(d.Path)),
            ];
            sb.AppendJoin(',', cells).AppendLine();
        }
        return sb.ToString();
    }

    private static string Change(ReportRow row)
    {
        if (row.VersusPrevious is not { } v) return "";
        return Metrics.StoppingRule.Describe(v.Comparison) + (v.Comparison.IsSignificant ? " ✔" : " n.s.");
    }

    private static JsonNode? Number(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    private static string G(double v) => double.IsFinite(v) ? v.ToString("G4", Inv) : "";

    private static string F(double v, string format) => double.IsFinite(v) ? v.ToString(format, Inv) : "";

    private static string Percent(double v) => double.IsFinite(v) ? (100 * v).ToString("F2", Inv) + " %" : "";

    private static string Num(double? v) => v is { } x && double.IsFinite(x) ? x.ToString("R", Inv) : "";

    private static string Quote(string s) => s.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
