using System.Text.Json;
using System.Text.RegularExpressions;
using GgufOptimize.Metrics;
using GgufOptimize.Reporting;
using GgufOptimize.Storage;
using GgufOptimize.Tests.Support;
using GgufOptimize.Tests.Workflow;

namespace GgufOptimize.Tests.Reporting;

public class ReportTests
{
    private static readonly ReportOptions Options = new() { Bootstrap = new BootstrapOptions(500, 0.95, 3, 2) };

    /// <summary>A comparison file as iterate writes it: statistics, per-token values and the iterate attributes.</summary>
    internal static string OurFile(TempDir dir, string type, int iteration, string calibration, IReadOnlyList<ChunkResult> chunks, double bpw)
    {
        string path = dir.File($"cmp_{type}_{iteration}.h5");
        var labels = new ComparisonLabels
        {
            Type = type, Calibration = calibration, Iteration = iteration, CalibrationSize = iteration * 100,
            TargetBytes = 1_000_000 + iteration, TargetBitsPerWeight = bpw,
        };
        KldOutputFile.Write(path, chunks, KldStatistics.Compute(chunks),
            new Dictionary<string, string> { ["target"] = $"m-{type}.gguf", ["baseline_file"] = "base.h5" }.Concat(labels.Text()), labels.Numbers());
        return path;
    }

    internal static IReadOnlyList<string> IterationFiles(TempDir dir)
    {
        var it0 = ComparisonFixtures.Baseline(30, 100, seed: 4);
        var it1 = ComparisonFixtures.Scaled(it0, _ => 0.8);
        var it2 = ComparisonFixtures.Scaled(it1, c => c % 2 == 0 ? 0.95 : 1.04);
        var k0 = ComparisonFixtures.Scaled(it0, _ => 0.5);
        return
        [
            // Out of order on purpose: the report orders by iteration.
            OurFile(dir, "Q4_0", 2, "200 samples", it2, 4.5), OurFile(dir, "Q4_0", 0, "none", it0, 4.5), OurFile(dir, "Q4_0", 1, "100 samples", it1, 4.5),
            OurFile(dir, "Q4_K_M", 0, "none", k0, 4.9), OurFile(dir, "Q4_K_M", 1, "100 samples", ComparisonFixtures.Scaled(k0, _ => 0.7), 4.9),
        ];
    }

    [Fact]
    public void Our_files_give_the_table_with_intervals_changes_and_the_best_iteration()
    {
        using var dir = new TempDir();
        var written = IterationReportWriter.Write(IterationFiles(dir), dir.File("report"), Options);
        var report = written.Report;
        Assert.Equal(new[] { "Q4_0", "Q4_K_M" }, report.Types.Select(t => t.Type));
        var q4 = report.Types[0];
        Assert.Equal(new[] { 0, 1, 2 }, q4.Rows.Select(r => r.Iteration));
        Assert.All(q4.Rows, r => Assert.True(r.Interval!.Lower <= r.Data.Score && r.Data.Score <= r.Interval.Upper));
        Assert.Equal(-0.2, q4.Rows[1].VersusPrevious!.Comparison.RelativeChange, 6);
        Assert.True(q4.Rows[1].VersusPrevious!.Continue);
        Assert.False(q4.Rows[2].VersusPrevious!.Continue);
        Assert.Equal(1, q4.Best.Iteration);
        Assert.StartsWith("stopped after iteration 2 (200 samples): ", q4.Verdict);
        Assert.Equal(1, report.Types[1].Best.Iteration);

        string md = File.ReadAllText(written.Markdown);
        Assert.Matches(@"\| Q4_0 \| 1 \| 100 samples \| .*\| −20\.00 % \[−20\.00 %, −20\.00 %\] ✔ \| 976\.6 KiB \| 4\.50 \| ✓ \|", md);
        Assert.Contains("- **Q4_0**: best is iteration 1 (100 samples)", md);

        var csv = File.ReadAllLines(written.Csv);
        Assert.Equal(6, csv.Length);
        int columns = csv[0].Split(',').Length;
        Assert.All(csv, line => Assert.Equal(columns, line.Split(',').Length));
        Assert.StartsWith("Q4_0,1,100 samples,100,", csv[2]);

        var json = JsonDocument.Parse(File.ReadAllText(written.Json)).RootElement;
        var first = json.GetProperty("types")[0];
        Assert.Equal(1, first.GetProperty("best_iteration").GetInt32());
        Assert.True(first.GetProperty("iterations")[1].GetProperty("vs_previous").GetProperty("significant").GetBoolean());
        Assert.Equal(4.5, first.GetProperty("iterations")[0].GetProperty("bits_per_weight").GetDouble());

        // Score vs calibration, score vs bits per weight, and per type: chunks and KLD distribution.
        Assert.Equal(6, written.Images.Count);
        foreach (var image in written.Images)
        {
            var bytes = File.ReadAllBytes(image);
            Assert.True(bytes.Length > 5000, $"{image} is suspiciously small");
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        }
    }

    [Fact]
    public void The_same_files_give_the_same_report()
    {
        using var dir = new TempDir();
        var files = IterationFiles(dir);
        var a = IterationReportWriter.Write(files, dir.File("a"), Options);
        // Another order of the files within each type: rows are ordered by iteration, types by first appearance.
        var b = IterationReportWriter.Write([files[2], files[1], files[0], files[4], files[3]], dir.File("b"), Options);
        foreach (var name in new[] { "report.md", "report.json", "report.csv", "report.html", "score_vs_calibration.png" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(a.Folder, name)), File.ReadAllBytes(Path.Combine(b.Folder, name)));
    }

    [Fact]
    public void Files_without_iterate_attributes_are_placed_by_their_target_name()
    {
        using var dir = new TempDir();
        var chunks = ComparisonFixtures.Baseline(5, 50, seed: 9);
        string path = dir.File("plain.h5");
        KldOutputFile.Write(path, chunks, KldStatistics.Compute(chunks),
            new Dictionary<string, string> { ["target"] = "llama-7b-Q5_K_M-imat-wiki.gguf" }, new Dictionary<string, double>());
        var data = ComparisonReader.Read(path);
        Assert.Equal("Q5_K_M", data.Type);
        Assert.Equal("wiki", data.Calibration);
        Assert.Null(data.Iteration);
        Assert.Equal(KldStatistics.Compute(chunks).Score, data.Score, 12);
        Assert.Equal(5, data.ChunkScores.Count);
    }

    [Slow]
    [SkippableFact]
    public void The_html_page_shows_every_plot_in_headless_chromium()
    {
        using var dir = new TempDir();
        var written = IterationReportWriter.Write(IterationFiles(dir), dir.File("report"), Options, "test report");
        string dom = HeadlessChromium.DumpDom(written.Html);
        var loaded = Regex.Match(dom, "data-images-loaded=\"([^\"]*)\"");
        Assert.True(loaded.Success, "the page's script did not run");
        Assert.Equal($"{written.Images.Count}/{written.Images.Count}", loaded.Groups[1].Value);
        Assert.Contains("<title>test report</title>", dom);
        Assert.Equal(written.Images.Count, Regex.Count(dom, "<img "));
    }
}
