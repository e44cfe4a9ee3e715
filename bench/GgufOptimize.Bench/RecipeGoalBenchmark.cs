using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using GgufOptimize.Engine;
using GgufOptimize.Gguf;
using GgufOptimize.Synthetic;
using ScottPlot;

namespace GgufOptimize.Bench;

/// <summary>
/// Issue 14's goal: recipes against llama.cpp's Q2_K … Q6_K on held-out text, same imatrix. Drives the built CLI
/// (logits, imatrix, sensitivity, quantize, kld, recipe) so the measurement is what a user would run.
/// </summary>
public sealed class RecipeGoalBenchmark : IBenchmark
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static readonly string[] LikeQ4KM = ["--like", "Q4_K_M"];
    private static readonly string[] LlamaTypes = ["Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M", "Q6_K"];

    public string Name => "recipe-goal";

    public string Description =>
        "recipes vs Q2_K..Q6_K on held-out text: --model F.gguf --text T.txt (first half tunes, second half is held out) | --synthetic (32k vocab, outlier channels; --preset realistic: the generator's realistic preset); " +
        "--out DIR, --cli path/to/gguf-optimize.dll, --chunks N (sensitivity sample), --groups layer|tensor, --objectives mean,score,both (recipe objectives to compare), --types T1,T2 (sensitivity's candidate types)";

    private string _cli = "";
    private string _out = "";

    public int Run(string[] args)
    {
        var a = new BenchArgs(args);
        _out = Path.GetFullPath(a.Get("out") ?? "bench-recipe");
        _cli = Path.GetFullPath(a.Get("cli") ?? "src/GgufOptimize.Cli/bin/Release/net10.0/gguf-optimize.dll");
        Directory.CreateDirectory(_out);
        var clock = Stopwatch.StartNew();
        string model, tune, heldout;
        if (args.Contains("--synthetic")) (model, tune, heldout) = Synthetic(a.Get("preset") ?? "outliers");
        else (model, tune, heldout) = Split(a.Get("model") ?? throw new ArgumentException("--model or --synthetic"), a.Get("text") ?? throw new ArgumentException("--text"));
        string precision = args.Contains("--synthetic") ? "16" : "32";
        // Finished steps are reused, so an interrupted benchmark resumes (kld and sensitivity resume by themselves).
        if (!File.Exists(P("tune.h5"))) Cli("logits", "-m", model, "-d", tune, "-o", P("tune.h5"), "--precision", precision);
        if (!File.Exists(P("heldout.h5"))) Cli("logits", "-m", model, "-d", heldout, "-o", P("heldout.h5"), "--precision", precision);
        if (!File.Exists(P("imatrix.gguf"))) Cli("imatrix", "-m", model, "-d", tune, "-o", P("imatrix.gguf"), "--process-output");
        var kldClock = Stopwatch.StartNew();
        var rows = new List<(string Kind, string Name, double Bpw, long File, double Mean, double Score)>();
        foreach (var type in LlamaTypes)
        {
            Cli("quantize", "-m", model, "--types", type, "--imatrix", P("imatrix.gguf"), "-o", P("llama"), "--name", "m");
            string file = Directory.GetFiles(P("llama"), $"m-{type}-imat-*.gguf").Single();
            if (type == "Q4_K_M") kldClock.Restart();
            var k = Json(Cli("kld", "--baseline-logits", P("heldout.h5"), "--target-model", file, "-o", P($"llama/{type}.h5"), "--json", "-"));
            if (type == "Q4_K_M") Console.WriteLine($"one full kld (Q4_K_M on held-out): {kldClock.Elapsed.TotalSeconds:F1} s");
            rows.Add(("llama.cpp", type, Bpw(file), new FileInfo(file).Length, k["overall"]!["Average"]!.GetValue<double>(), k["overall"]!["Score"]!.GetValue<double>()));
        }
        var sensClock = Stopwatch.StartNew();
        Cli("sensitivity", "-m", model, "--baseline-logits", P("tune.h5"), "--types", a.Get("types") ?? "Q2_K,Q3_K,Q4_K,Q5_K,Q6_K,Q8_0", "--imatrix", P("imatrix.gguf"),
            "--groups", a.Get("groups") ?? "layer", "--chunks", a.Get("chunks") ?? "16", "-o", P("sens.json"));
        Console.WriteLine($"sensitivity: {sensClock.Elapsed.TotalSeconds:F0} s");
        var objectives = (a.Get("objectives") ?? "mean").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var budgets = new[] { ("like-Q4_K_M", LikeQ4KM) }.Concat(rows.Select(r => ($"bpw-{r.Name}", new[] { "--budget-bpw", r.Bpw.ToString("F4", Inv) })).ToList()).ToList();
        foreach (var objective in objectives)
            foreach (var (budgetName, budget) in budgets)
            {
                string name = objective == "mean" ? budgetName : $"{budgetName}-{objective}";
                var r = Json(Cli(["recipe", "--sensitivity", P("sens.json"), "-m", model, "--imatrix", P("imatrix.gguf"), .. budget, "--output-dir", P("recipes"), "--name", name,
                    "--baseline-logits", P("heldout.h5"), "--objective", objective, "--json", "-"]));
                rows.Add((objective == "mean" ? "recipe" : $"recipe ({objective})", name, r["bitsPerWeight"]!.GetValue<double>(), r["fileBytes"]!.GetValue<long>(),
                    r["measured"]!["meanKld"]!.GetValue<double>(), r["measured"]!["score"]!.GetValue<double>()));
            }
        Write(rows, Path.GetFileName(model), clock.Elapsed);
        return 0;
    }

    private string P(string name) => Path.Combine(_out, name);

    private (string, string, string) Synthetic(string preset)
    {
        string model = P(preset == "realistic" ? "synthetic32k-realistic-f16.gguf" : "synthetic32k-f16.gguf");
        if (!File.Exists(model))
            SyntheticModel.Write(model, preset switch
            {
                "outliers" => new SyntheticModelOptions
                {
                    VocabSize = 32000, EmbeddingLength = 256, LayerCount = 4, HeadCount = 4, ContextLength = 256, WeightType = GgmlType.F16,
                    OutlierChannels = 8, OutlierScale = 8, Seed = 14, Name = "synthetic-32k",
                },
                // The realistic preset's output distributions (docs/synthetic-models.md), at the outlier model's depth and context.
                "realistic" => SyntheticModelOptions.Realistic(32000, seed: 14) with { LayerCount = 4, ContextLength = 256 },
                _ => throw new ArgumentException($"--preset {preset}: outliers or realistic"),
            });
        string tune = P("tune.txt"), heldout = P("heldout.txt");
        using var llama = LlamaModel.Load(model);
        foreach (var (path, seed) in new[] { (tune, 1UL), (heldout, 2UL) })
        {
            if (File.Exists(path)) continue;
            using var generator = new ModelTextGenerator(llama, new TextGenerationOptions { Seed = seed, MaxTokens = 250, Threads = 2 });
            File.WriteAllText(path, generator.Generate(100).ToDocument());
        }
        return (model, tune, heldout);
    }

    private (string, string, string) Split(string model, string text)
    {
        var paragraphs = File.ReadAllText(text).Split("\n\n");
        int half = paragraphs.Length / 2;
        File.WriteAllText(P("tune.txt"), string.Join("\n\n", paragraphs[..half]));
        File.WriteAllText(P("heldout.txt"), string.Join("\n\n", paragraphs[half..]));
        return (Path.GetFullPath(model), P("tune.txt"), P("heldout.txt"));
    }

    private static double Bpw(string file)
    {
        var g = GgufFile.Read(file);
        return g.TensorDataBytes * 8.0 / g.ParameterCount;
    }

    private static JsonNode Json(string stdout) => JsonNode.Parse(stdout) ?? throw new InvalidOperationException("no JSON");

    private string Cli(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(_cli);
        foreach (var x in args) start.ArgumentList.Add(x);
        start.ArgumentList.Add("-q");
        using var p = Process.Start(start)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"gguf-optimize {string.Join(' ', args)} failed ({p.ExitCode}): {stderr.Result}");
        return stdout;
    }

    private void Write(List<(string Kind, string Name, double Bpw, long File, double Mean, double Score)> rows, string model, TimeSpan elapsed)
    {
        var q4 = rows.Single(r => r.Name == "Q4_K_M");
        var b = new StringBuilder($"Model {model}, held-out text, same imatrix for every file ({elapsed.TotalMinutes:F0} min in all).\n\n");
        b.Append("| file | bits/weight | file bytes | mean KLD | Score | mean KLD vs Q4_K_M | Score vs Q4_K_M |\n|---|---:|---:|---:|---:|---:|---:|\n");
        foreach (var r in rows)
            b.Append(Inv, $"| {r.Kind} {r.Name} | {r.Bpw:F3} | {r.File:N0} | {r.Mean:G4} | {r.Score:G4} | {(r.Mean / q4.Mean - 1):+0.0%;-0.0%} | {(r.Score / q4.Score - 1):+0.0%;-0.0%} |\n");
        File.WriteAllText(P("goal.md"), b.ToString());
        Console.WriteLine(b.ToString());

        var plot = new Plot();
        plot.Title($"Score vs bits per weight — {model}");
        plot.XLabel("bits per weight");
        plot.YLabel("Score (lower is better)");
        plot.Font.Set("DejaVu Sans");
        var kinds = new List<(string, Color, MarkerShape)> { ("llama.cpp", Colors.Gray, MarkerShape.FilledSquare), ("recipe", Colors.C0, MarkerShape.FilledCircle) };
        foreach (var (extra, i) in rows.Select(r => r.Kind).Distinct().Where(k => k is not ("llama.cpp" or "recipe")).Select((k, i) => (k, i)))
            kinds.Add((extra, i == 0 ? Colors.C1 : Colors.C2, MarkerShape.FilledTriangleUp));
        foreach (var (kind, color, shape) in kinds)
        {
            var mine = rows.Where(r => r.Kind == kind).OrderBy(r => r.Bpw).ToList();
            var line = plot.Add.Scatter(mine.Select(r => r.Bpw).ToArray(), mine.Select(r => r.Score).ToArray(), color);
            line.MarkerShape = shape;
            line.MarkerSize = 9;
            line.LegendText = kind == "recipe" ? "recipes (mean objective)" : kind == "llama.cpp" ? "llama.cpp types" : kind.Replace("recipe (", "recipes (").Replace(")", " objective)");
            foreach (var r in mine.Where(r => kind == "llama.cpp" || r.Name == "like-Q4_K_M"))
            {
                var label = plot.Add.Text(r.Name, r.Bpw, r.Score);
                label.LabelFontSize = 11;
                label.LabelFontColor = color;
                label.OffsetX = 8;
            }
        }
        plot.Axes.SetLimitsY(0, rows.Max(r => r.Score) * 1.1);
        plot.ShowLegend(Edge.Right);
        plot.SavePng(P("score_vs_bpw.png"), 900, 560);
    }
}
