using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using GgufOptimize.Kld;
using GgufOptimize.Metrics;
using GgufOptimize.Storage;

namespace GgufOptimize.Reporting;

/// <summary>How a comparison is shown: a text table for people, JSON (the Python tool's shape) for scripts.</summary>
internal static class KldReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Table(KldJobResult r)
    {
        var o = r.Overall;
        var d = o.ToDictionary();
        var sb = new StringBuilder();
        sb.AppendLine($"{r.Provenance.Target} vs {r.Provenance.BaselineFile}: {o.Chunks} chunks, {o.Tokens} tokens scored ({r.Provenance.ScoredPositions})");
        if (r.EarlyStopping is { Enabled: true } e)
            sb.AppendLine($"early stopping: {e.Reason}; Score of the range in [{F(e.Lower)}, {F(e.Upper)}]");
        sb.AppendLine();
        sb.AppendLine($"  {"Score",-22} {F(o.Score)}");
        foreach (var name in new[] { "Average", "StdDev", "Median", "Minimum", "Maximum", "KLD_999", "KLD_99", "KLD_95", "KLD_90", "KLD_10", "KLD_05", "KLD_01" })
            sb.AppendLine($"  {name,-22} {F(d[name])}");
        sb.AppendLine();
        sb.AppendLine($"  {"Mean PPL(base)",-22} {F(o.PPL_base)}");
        sb.AppendLine($"  {"Mean PPL(target)",-22} {F(o.PPL_target)}");
        sb.AppendLine($"  {"PPL ratio",-22} {F(o.PPL_ratio)}");
        sb.AppendLine($"  {"Mean ln(PPL ratio)",-22} {F(o.Mean_ln_PPL_ratio)} ± {F(o.Mean_ln_PPL_ratio_SE)}");
        sb.AppendLine($"  {"Cor(ln PPL)",-22} {(100 * o.Cor_ln_PPL).ToString("F2", Inv)} %");
        sb.AppendLine($"  {"Mean KLD",-22} {F(o.Average)} ± {F(o.Mean_KLD_SE)}");
        sb.AppendLine($"  {"RMS Δp",-22} {(100 * o.RMS_dp).ToString("F3", Inv)} ± {(100 * o.RMS_dp_SE).ToString("F3", Inv)} %");
        sb.AppendLine($"  {"Same top p",-22} {(100 * o.Same_top_p).ToString("F3", Inv)} ± {(100 * o.Same_top_p_SE).ToString("F3", Inv)} %");
        if (o.NonFiniteRows > 0) sb.AppendLine($"  {"non-finite rows",-22} {o.NonFiniteRows} (excluded)");
        if (r.MissingBaselineChunks.Count > 0) sb.AppendLine($"  baseline incomplete: {r.MissingBaselineChunks.Count} chunk(s) of the range were not compared");
        return sb.ToString();
    }

    public static JsonObject Json(KldJobResult r)
    {
        var chunks = new JsonArray();
        foreach (var c in r.Chunks)
        {
            var obj = new JsonObject { ["ChunkNumber"] = c.ChunkIndex, ["NonFiniteRows"] = c.NonFiniteRows };
            foreach (var (k, v) in KldStatistics.Compute(c).ToDictionary()) obj[k] = Number(v);
            chunks.Add(obj);
        }
        var overall = new JsonObject();
        foreach (var (k, v) in r.Overall.ToDictionary()) overall[k] = Number(v);
        var provenance = new JsonObject();
        foreach (var (k, v) in r.Provenance.Text()) provenance[k] = v;
        var missing = new JsonArray();
        foreach (var m in r.MissingBaselineChunks) missing.Add(m);
        var root = new JsonObject
        {
            ["overall"] = overall,
            ["chunks"] = chunks,
            ["provenance"] = provenance,
            ["missing_baseline_chunks"] = missing,
            ["output_file"] = r.OutputFile,
        };
        root["early_stopping"] = EarlyStopping(r.EarlyStopping);
        return root;
    }

    /// <summary>Always present: enabled or not, stopped or not and why, chunks used of the range, order, interval.</summary>
    private static JsonObject EarlyStopping(EarlyStoppingRecord e) => new()
    {
        ["enabled"] = e.Enabled,
        ["stopped"] = e.Stopped,
        ["reason"] = e.Reason,
        ["chunks_used"] = e.ChunksUsed,
        ["chunks_total"] = e.ChunksTotal,
        ["order"] = e.RandomOrder ? "random" : "text",
        ["seed"] = e.Seed,
        ["margin"] = Number(e.Margin),
        ["interval"] = e.Enabled
            ? new JsonObject { ["low"] = Number(e.Lower), ["high"] = Number(e.Upper), ["confidence"] = Number(e.Confidence), ["look_confidence"] = Number(e.LookConfidence) }
            : null,
        ["looks"] = e.Looks,
        ["planned_looks"] = new JsonArray(e.PlannedLooks.Select(n => (JsonNode?)n).ToArray()),
    };

    /// <summary>JSON has no NaN/∞: those become null.</summary>
    private static JsonNode? Number(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    private static string F(double v) => double.IsFinite(v) ? v.ToString("G6", Inv) : v.ToString(Inv);
}
