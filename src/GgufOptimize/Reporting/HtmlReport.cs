using System.Net;
using System.Text;

namespace GgufOptimize.Reporting;

/// <summary>
/// One self-contained HTML page: the table and every plot embedded as a data URI, so it can be mailed or opened
/// offline. A small script records on the body whether every image decoded (<c>data-images-loaded="n/m"</c>).
/// </summary>
internal static class HtmlReport
{
    public static string Render(IterationReport report, IReadOnlyList<PlotImage> plots, string folder, string title)
    {
        var sb = new StringBuilder();
        sb.AppendLine("<!DOCTYPE html>");
        sb.AppendLine("<html lang=\"en\"><head><meta charset=\"utf-8\">");
        sb.AppendLine($"<title>{Enc(title)}</title>");
        sb.AppendLine("<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;font-size:14px}"
            + "th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}td:not(.l){white-space:nowrap}th{background:#f3f3f3}td.l,th.l{text-align:left}"
            + "tr.best td{background:#eef8ee;font-weight:600}figure{margin:2em 0}img{max-width:100%;border:1px solid #ddd}figcaption{color:#555}"
            + "dl.definitions{display:grid;grid-template-columns:max-content auto;gap:2px 1em;max-width:70em}dt{font-weight:600}dd{margin:0}"
            + "p.baseline{color:#333}ul.conclusions li{margin:.3em 0}</style>");
        sb.AppendLine("</head><body data-images-loaded=\"pending\">");
        sb.AppendLine($"<h1>{Enc(title)}</h1>");
        sb.AppendLine($"<p class=\"baseline\">Measured against the {Enc(report.Baseline)}.</p>");
        sb.AppendLine("<h2>Conclusion</h2><ul class=\"conclusions\">");
        foreach (var c in report.Conclusions) sb.AppendLine($"<li>{Enc(c)}</li>");
        sb.AppendLine("</ul>");
        AppendTable(sb, report);
        sb.AppendLine("<ul class=\"types\">");
        foreach (var t in report.Types)
        {
            var best = t.Rows.First(r => r.IsBest);
            sb.AppendLine($"<li><b>{Enc(t.Type)}</b>: best is iteration {best.Iteration} ({Enc(best.Calibration)}), {Enc(t.Best.Reason)}; {Enc(t.Verdict)}.<br>{Enc(t.Reference)}</li>");
        }
        foreach (var n in report.Notes) sb.AppendLine($"<li>Note: {Enc(n)}.</li>");
        sb.AppendLine("</ul>");
        sb.AppendLine("<h2>Reading the table</h2><dl class=\"definitions\">");
        foreach (var (term, meaning) in ReportTables.Definitions(report)) sb.AppendLine($"<dt>{Enc(term)}</dt><dd>{Enc(meaning)}.</dd>");
        sb.AppendLine("</dl>");
        foreach (var plot in plots)
        {
            string data = Convert.ToBase64String(File.ReadAllBytes(Path.Combine(folder, plot.FileName)));
            sb.AppendLine($"<figure><h2>{Enc(plot.Title)}</h2><img alt=\"{Enc(plot.Title)}\" data-file=\"{Enc(plot.FileName)}\" src=\"data:image/png;base64,{data}\">");
            sb.AppendLine($"<figcaption>{Enc(plot.Caption)}</figcaption></figure>");
        }
        sb.AppendLine("""
            <script>
            window.addEventListener('load', function () {
              var images = Array.prototype.slice.call(document.images);
              var ok = images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
              document.body.setAttribute('data-images-loaded', ok + '/' + images.length);
            });
            </script>
            """);
        sb.AppendLine("</body></html>");
        return sb.ToString();
    }

    private static void AppendTable(StringBuilder sb, IterationReport report)
    {
        static bool Left(string h) => h is "Type" or "Calibration" or "vs previous" or "Best";
        sb.Append("<table><thead><tr>");
        foreach (var h in ReportTables.Header) sb.Append(Left(h) ? $"<th class=\"l\">{Enc(h)}</th>" : $"<th>{Enc(h)}</th>");
        sb.AppendLine("</tr></thead><tbody>");
        foreach (var row in report.Rows)
        {
            var cells = ReportTables.Cells(row);
            sb.Append(row.IsBest ? "<tr class=\"best\">" : "<tr>");
            for (int c = 0; c < cells.Length; c++)
                sb.Append(Left(ReportTables.Header[c]) ? $"<td class=\"l\">{Enc(cells[c])}</td>" : $"<td>{Enc(cells[c])}</td>");
            sb.AppendLine("</tr>");
        }
        sb.AppendLine("</tbody></table>");
    }

    private static string Enc(string s) => WebUtility.HtmlEncode(s);
}
