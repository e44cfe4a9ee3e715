using System.Text.RegularExpressions;
using GgufOptimize.Common;
using GgufOptimize.Imatrix;
using GgufOptimize.Kld;
using GgufOptimize.Logits;
using GgufOptimize.Metrics;
using GgufOptimize.Quantization;
using GgufOptimize.Reporting;
using GgufOptimize.Tests.Support;
using GgufOptimize.Engine;
using GgufOptimize.Synthetic;
using GgufOptimize.Workflow;

namespace GgufOptimize.Tests.Reporting;

/// <summary>
/// The way a user works without <c>iterate</c>, through llama.cpp: quantize with and without an imatrix, compare each
/// with <c>kld</c>, compare stored logits of a third type, then <c>report</c> the files in any order.
/// </summary>
[Collection("engine-workflow")]
public class HandMadeReportTests
{
    private static readonly ReportOptions Options = new() { Bootstrap = new BootstrapOptions(400, 0.95, 3, 1) };

    /// <summary>The demo's model (made so that an imatrix measurably helps) and text sampled from it, fewer paragraphs than the demo.</summary>
    private static (string Model, string Evaluation, string Calibration) Assets(TempDir dir)
    {
        string model = dir.File("model-f16.gguf"), evaluation = dir.File("evaluation.txt"), calibration = dir.File("calibration.txt");
        SyntheticModel.Write(model, DemoRunner.Model);
        using var llama = LlamaModel.Load(model);
        foreach (var (path, seed, count) in new[] { (evaluation, 1UL, 200), (calibration, 2UL, 200) })
        {
            using var generator = new ModelTextGenerator(llama, new TextGenerationOptions { Seed = seed, MaxTokens = 200, Threads = 1 });
            File.WriteAllText(path, generator.Generate(count).ToDocument());
        }
        return (model, evaluation, calibration);
    }

    [Slow]
    [Fact]
    public void Report_orders_and_labels_kld_files_from_what_they_record()
    {
        using var dir = new TempDir();
        var (model, evaluation, calibration) = Assets(dir);
        LogitsJob.Run(new LogitsJobOptions { ModelPath = model, DatasetPath = evaluation, OutputPath = dir.File("base.h5"), ContextSize = 128, Threads = 1 },
            NullProgress.Instance, default);
        ImatrixBuilder.Run(new ImatrixOptions
        {
            ModelPath = model, DatasetPath = calibration, OutputPath = dir.File("calib.gguf"), ContextSize = 128, Chunks = 16, Threads = 1,
        }, NullProgress.Instance);
        string plain = Quantize(dir, model, "Q4_0", imatrix: null, "second.gguf");
        string withImatrix = Quantize(dir, model, "Q4_0", dir.File("calib.gguf"), "first.gguf");
        string kQuant = Quantize(dir, model, "Q4_K_M", imatrix: null, null);

        // Names that sort the imatrix run first (the shell's glob order): only the recorded facts can place them.
        string a = Compare(dir, withImatrix, "a.h5");
        string b = Compare(dir, plain, "b.h5");
        // --target-logits: stored logits of the Q4_K_M model under a name that does not tell the type.
        LogitsJob.Run(new LogitsJobOptions { ModelPath = kQuant, DatasetPath = evaluation, OutputPath = dir.File("target.h5"), ContextSize = 128, Threads = 1 },
            NullProgress.Instance, default);
        KldJob.Run(new KldJobOptions { BaselineLogits = dir.File("base.h5"), TargetLogits = dir.File("target.h5"), OutputFile = dir.File("c.h5"), Threads = 1 },
            NullProgress.Instance, default);

        var forward = IterationReportWriter.Write([a, b, dir.File("c.h5")], dir.File("r1"), Options);
        var backward = IterationReportWriter.Write([dir.File("c.h5"), b, a], dir.File("r2"), Options);
        Assert.Equal(File.ReadAllText(forward.Markdown), File.ReadAllText(backward.Markdown));

        var report = forward.Report;
        Assert.Equal(new[] { "Q4_0", "Q4_K_M" }, report.Types.Select(t => t.Type));
        var q4 = report.Types[0];
        Assert.Equal(new[] { "b", "a" }, q4.Rows.Select(r => r.Data.Label));
        Assert.Equal(new bool?[] { false, true }, q4.Rows.Select(r => r.Data.UsesImatrix));
        Assert.Equal("16 chunks (calib.gguf)", q4.Rows[1].Calibration);
        Assert.StartsWith("Reference step of Q4_0: b.h5, quantized without an imatrix", q4.Reference);

        // The imatrix lowers the Score on this model (made with outlier channels for that), and the report says so.
        var change = q4.Rows[1].VersusPrevious!.Comparison;
        Assert.True(change.RelativeChange < 0 && change.IsSignificant, $"the imatrix should lower the Score: {change.RelativeChange}");
        string percent = ReportConclusions.Percent(q4.Rows[1].Data.Score / q4.Rows[0].Data.Score - 1);
        Assert.Contains($"With an imatrix from 16 chunks (calib.gguf), Q4_0's Score is {percent} lower than without", report.Conclusions[0]);

        // Size and bits per weight of the quantized files, from the files: the Score-vs-BPW plot is drawn.
        Assert.All(q4.Rows, r => Assert.Equal(new FileInfo(r.Data.Path == a ? withImatrix : plain).Length, r.Data.TargetBytes));
        Assert.All(q4.Rows, r => Assert.InRange(r.Data.BitsPerWeight!.Value, 4.4, 6));
        Assert.Contains(forward.Images, i => Path.GetFileName(i) == "score_vs_bpw.png");

        // The stored-logits comparison is labelled with the type of the model its logits came from.
        var logits = Assert.Single(report.Types[1].Rows).Data;
        Assert.Contains(Path.GetFileName(kQuant), logits.TypeSource);
        Assert.Contains("Measured against the baseline model-f16.gguf; evaluation text evaluation.txt", File.ReadAllText(forward.Markdown));

        // Against another evaluation text the baseline differs: report refuses, in one line, exit code 2.
        KldJob.Run(new KldJobOptions { BaselineModel = model, Dataset = calibration, TargetModel = plain, OutputFile = dir.File("other.h5"), ContextSize = 128, Threads = 1 },
            NullProgress.Instance, default);
        var refused = CliProcess.Run("report", a, dir.File("other.h5"), "-o", dir.File("r3"));
        Assert.Equal(2, refused.ExitCode);
        Assert.Matches(new Regex("^[^\n]*different baselines[^\n]*\n?$"), refused.Stderr.Trim('\n') + "\n");
        // …but the same baseline given as a model (generate-both mode) is the same baseline.
        KldJob.Run(new KldJobOptions { BaselineModel = model, Dataset = evaluation, TargetModel = plain, OutputFile = dir.File("same.h5"), ContextSize = 128, Threads = 1 },
            NullProgress.Instance, default);
        Assert.Equal(3, IterationReportWriter.Write([a, b, dir.File("same.h5")], dir.File("r4"), Options).Report.Types[0].Rows.Count);
    }

    private static string Quantize(TempDir dir, string model, string type, string? imatrix, string? rename)
    {
        var outcome = ModelQuantizer.Run(new QuantizeOptions
        {
            ModelPath = model, Types = [QuantizationTypes.Parse(type)], OutputDirectory = dir.Path, ImatrixPath = imatrix, Threads = 1,
        }, NullProgress.Instance).Single();
        if (rename is null) return outcome.OutputPath;
        File.Move(outcome.OutputPath, dir.File(rename));
        return dir.File(rename);
    }

    private static string Compare(TempDir dir, string target, string output)
    {
        KldJob.Run(new KldJobOptions { BaselineLogits = dir.File("base.h5"), TargetModel = target, OutputFile = dir.File(output), Threads = 1 },
            NullProgress.Instance, default);
        return dir.File(output);
    }
}
