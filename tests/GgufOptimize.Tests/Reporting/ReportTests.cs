using System.Text.Json;
using System.Text.RegularExpressions;
using GgufOptimize.Kld;
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
        var labels = new ComparisonLabels { Type = type, Calibration = calibration, Iteration = iteration, CalibrationSize = iteration * 100 };
        var target = new TargetFacts { Path = $"/models/m-{type}.gguf", Bytes = 1_000_000 + iteration, BitsPerWeight = bpw };
        KldOutputFile.Write(path, chunks, KldStatistics.Compute(chunks),
            new Dictionary<string, string> { ["target"] = $"m-{type}.gguf", ["baseline_file"] = "base.h5" }.Concat(labels.Text()).Concat(target.Text()),
            labels.Numbers().Concat(target.Numbers()));
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

        // Score vs calibration, score vs bits per weight, the files × chunks heat map, and per type: chunks and KLD
        // distribution.
        Assert.Equal(7, written.Images.Count);
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

    /// <summary>A comparison file as kld writes it for a target model (no iterate attributes), named so the name tells nothing.</summary>
    internal static string KldFile(TempDir dir, string name, string type, string? imatrix, double? imatrixChunks, IReadOnlyList<ChunkResult> chunks,
        double bpw, string baselineSha = "ab", string dataset = "wiki.txt")
    {
        string path = dir.File(name);
        var text = new Dictionary<string, string>
        {
            ["target"] = $"{name}.gguf", ["baseline_file"] = "base.h5", ["id_baseline"] = $"logits of {new string(baselineSha[0], 64)} on {new string(baselineSha[1], 64)}, n_ctx 128, f32",
            ["id_target"] = "model " + new string('c', 64), [TargetFacts.TypeKey] = type, [TargetFacts.ImatrixKey] = imatrix ?? TargetFacts.NoImatrix,
            [BaselineFacts.ModelKey] = "model-f16.gguf", [BaselineFacts.DatasetKey] = dataset,
        };
        var numbers = new Dictionary<string, double>
        {
            ["n_ctx"] = 128, [TargetFacts.BytesKey] = 2_000_000, [TargetFacts.ParametersKey] = 3_000_000,
            [TargetFacts.BitsPerWeightKey] = bpw,
        };
        if (imatrixChunks is { } c) numbers[TargetFacts.ImatrixChunksKey] = c;
        KldOutputFile.Write(path, chunks, KldStatistics.Compute(chunks), text, numbers);
        return path;
    }

    /// <summary>Chunks whose target log-probabilities are shifted by <paramref name="lnPplRatio"/> per token: PPL ratio = exp(shift).</summary>
    private static IReadOnlyList<ChunkResult> WithPerplexity(IReadOnlyList<ChunkResult> chunks, double lnPplRatio) =>
        chunks.Select(c => new ChunkResult(c.ChunkIndex, c.Kld, c.DeltaP, c.SameTop, c.LogProbBase,
            c.LogProbBase.Select(v => v - lnPplRatio).ToArray(), c.NonFiniteRows)).ToList();

    private static IReadOnlyList<string> HandMadeFiles(TempDir dir)
    {
        var plain = ComparisonFixtures.Baseline(30, 100, seed: 21);
        return
        [
            // Names sort the imatrix runs first, and the shell would pass them in that order.
            KldFile(dir, "a_run.h5", "Q4_0", "imatrix-200.gguf", 200, ComparisonFixtures.Scaled(plain, _ => 0.89), 4.55),
            KldFile(dir, "b_run.h5", "Q4_0", "imatrix-50.gguf", 50, ComparisonFixtures.Scaled(plain, _ => 0.95), 4.55),
            KldFile(dir, "c_run.h5", "Q4_0", null, null, plain, 4.55),
        ];
    }

    [Fact]
    public void Hand_made_files_are_ordered_from_what_they_record_whatever_order_they_are_given_in()
    {
        using var dir = new TempDir();
        var files = HandMadeFiles(dir);
        int[][] orders = [[0, 1, 2], [2, 1, 0], [1, 2, 0], [0, 2, 1]];
        var written = orders.Select((o, i) => IterationReportWriter.Write(o.Select(k => files[k]).ToList(), dir.File($"r{i}"), Options)).ToList();
        foreach (var w in written.Skip(1))
            foreach (var name in new[] { "report.md", "report.json", "report.csv", "report.html" })
                Assert.Equal(File.ReadAllText(Path.Combine(written[0].Folder, name)), File.ReadAllText(Path.Combine(w.Folder, name)));

        var q4 = Assert.Single(written[0].Report.Types);
        Assert.Equal(new[] { "c_run", "b_run", "a_run" }, q4.Rows.Select(r => r.Data.Label));
        Assert.Equal(new[] { "none", "50 chunks (imatrix-50.gguf)", "200 chunks (imatrix-200.gguf)" }, q4.Rows.Select(r => r.Calibration));
        Assert.StartsWith("Reference step of Q4_0: c_run.h5, quantized without an imatrix (the target model's GGUF header has no quantize.imatrix keys", q4.Reference);
        // The imatrix lowers the Score: every paired step is an improvement, and the conclusion says so with the computed change.
        Assert.All(q4.Rows.Skip(1), r => Assert.True(r.VersusPrevious!.Comparison.RelativeChange < 0));
        var best = q4.Rows.Single(r => r.IsBest);
        Assert.Equal("a_run", best.Data.Label);
        string percent = ReportConclusions.Percent(best.Data.Score / q4.Rows[0].Data.Score - 1);
        Assert.Equal("11 %", percent);
        Assert.Contains($"With an imatrix from 200 chunks (imatrix-200.gguf), Q4_0's Score is {percent} lower than without", written[0].Report.Conclusions[0]);
        Assert.DoesNotContain("the Score got significantly worse", File.ReadAllText(written[0].Markdown));

        // Size and bits per weight come from the file, and so the Score-vs-BPW plot is there.
        Assert.All(q4.Rows, r => Assert.Equal(4.55, r.Data.BitsPerWeight));
        Assert.Contains(written[0].Images, i => Path.GetFileName(i) == "score_vs_bpw.png");
        Assert.Matches(@"\| Q4_0 \| 0 \| none \| .*\| 1\.9 MiB \| 4\.55 \|", File.ReadAllText(written[0].Markdown));
        Assert.Contains("Measured against the baseline model-f16.gguf; evaluation text wiki.txt (chunks of 128 tokens", File.ReadAllText(written[0].Markdown));
    }

    [Fact]
    public void Comparisons_against_different_baselines_are_refused()
    {
        using var dir = new TempDir();
        var chunks = ComparisonFixtures.Baseline(5, 50, seed: 2);
        string a = KldFile(dir, "a.h5", "Q4_0", null, null, chunks, 4.5);
        string b = KldFile(dir, "b.h5", "Q4_0", "im.gguf", 10, chunks, 4.5, dataset: "other.txt", baselineSha: "ad");
        var e = Assert.Throws<GgufOptimize.Common.GgufOptimizeException>(() => IterationReportWriter.Write([a, b], dir.File("r"), Options));
        Assert.Contains("different baselines (model-f16.gguf on wiki.txt, n_ctx 128 vs model-f16.gguf on other.txt, n_ctx 128)", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(Directory.Exists(dir.File("r")), "nothing is written when the report is refused");
    }

    [Fact]
    public void Target_logits_comparisons_are_labelled_with_the_type_in_their_names()
    {
        using var dir = new TempDir();
        var chunks = ComparisonFixtures.Baseline(5, 50, seed: 3);
        string byName = dir.File("cmp.h5");
        KldOutputFile.Write(byName, chunks, KldStatistics.Compute(chunks),
            new Dictionary<string, string> { ["target"] = "logits-Q4_K_M.h5", ["id_target"] = "logits of x, f32" }, new Dictionary<string, double>());
        Assert.Equal("Q4_K_M", ComparisonReader.Read(byName).Type);
        string byModel = dir.File("cmp2.h5");
        KldOutputFile.Write(byModel, chunks, KldStatistics.Compute(chunks),
            new Dictionary<string, string> { ["target"] = "target.h5", [TargetFacts.ModelKey] = "llama-IQ4_XS.gguf" }, new Dictionary<string, double>());
        var data = ComparisonReader.Read(byModel);
        Assert.Equal("IQ4_XS", data.Type);
        Assert.Contains("llama-IQ4_XS.gguf", data.TypeSource);
    }

    [Fact]
    public void Surprising_perplexity_is_explained_in_one_sentence_each()
    {
        using var dir = new TempDir();
        var plain = ComparisonFixtures.Baseline(30, 100, seed: 8);
        // Without an imatrix the PPL ratio is below 1; with it the Score falls by 20 % while the PPL ratio rises above 1.
        string a = KldFile(dir, "plain.h5", "Q4_K_M", null, null, WithPerplexity(plain, -0.01), 4.9);
        string b = KldFile(dir, "imat.h5", "Q4_K_M", "im.gguf", 100, WithPerplexity(ComparisonFixtures.Scaled(plain, _ => 0.8), 0.03), 4.9);
        var report = IterationReportWriter.Write([b, a], dir.File("r"), Options).Report;
        Assert.Equal(3, report.Conclusions.Count);
        Assert.StartsWith("With an imatrix from 100 chunks (im.gguf), Q4_K_M's Score is 20 % lower than without", report.Conclusions[0]);
        Assert.StartsWith("Q4_K_M without an imatrix has a PPL ratio below 1 (0.9900): ", report.Conclusions[1]);
        Assert.StartsWith("For Q4_K_M the PPL ratio rises (0.9900 → 1.0305) while the Score falls by 20 %: ", report.Conclusions[2]);
        Assert.All(report.Conclusions, c => Assert.Single(Regex.Matches(c, @"[.!?](\s|$)")));
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
        // The page says what it measured against and what the Score and the marks mean.
        Assert.Contains("<p class=\"baseline\">Measured against the baseline base.h5;", dom);
        Assert.Contains("<dt>Score</dt><dd>Median^(1/3)·(KLD_99 + 4·KLD_95 + 5·KLD_90)^(2/3)", dom);
        Assert.Contains("✔ = significant", dom);
        Assert.Contains("<dt>Best (✓)</dt>", dom);
        Assert.Matches("<ul class=\"conclusions\">\\s*<li>With an imatrix from 100 samples, Q4_0's Score is 20 % lower than without", dom);
    }

    [Fact]
    public void Many_chunks_are_drawn_as_lines_not_as_slivers_of_bars()
    {
        using var dir = new TempDir();
        var it0 = ComparisonFixtures.Baseline(120, 40, seed: 6);
        string[] files = [OurFile(dir, "Q4_0", 0, "none", it0, 4.5), OurFile(dir, "Q4_0", 1, "100 samples", ComparisonFixtures.Scaled(it0, _ => 0.8), 4.5)];
        var written = IterationReportWriter.Write(files, dir.File("report"), Options);
        string html = File.ReadAllText(written.Html);
        Assert.Contains("Composite score of every evaluation chunk, one line per step (120 chunks are too many for bars)", html);
        var few = IterationReportWriter.Write(IterationFiles(dir), dir.File("few"), Options);
        Assert.Contains("Composite score of every evaluation chunk, one bar per step", File.ReadAllText(few.Html));
    }
}
