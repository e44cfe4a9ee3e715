using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Gguf;
using GgufOptimize.Synthetic;

namespace GgufOptimize.Workflow;

/// <summary>Settings of <c>demo</c>.</summary>
internal sealed record DemoOptions
{
    /// <summary>Folder that keeps every artifact (and lets a rerun resume); null = a temporary folder of which only the report is kept.</summary>
    public string? Workdir { get; init; }
    /// <summary>CPU threads; the model is so small that one is the fastest.</summary>
    public int Threads { get; init; } = 1;
    /// <summary>Paragraphs sampled for the evaluation text and for the calibration text.</summary>
    public int EvaluationParagraphs { get; init; } = 500;
    public int CalibrationParagraphs { get; init; } = 1200;
    public IReadOnlyList<long> SubsetSizes { get; init; } = [50, 200, 800];
    public IReadOnlyList<string> Types { get; init; } = ["Q4_0", "Q4_K_M"];
    public int ContextSize { get; init; } = 128;
}

/// <summary>What the demo made and found.</summary>
internal sealed record DemoResult(IterationResult Iteration, string Workdir, bool Kept);

/// <summary>
/// The whole method on an embedded default: a synthetic F16 llama model with strong outlier channels (so that an
/// imatrix measurably changes quantization error), evaluation and calibration text sampled from the model itself
/// with fixed seeds, and the iterative loop over two types and three calibration sizes. Deterministic: the same
/// settings give the same model, texts and report.
/// </summary>
internal static class DemoRunner
{
    public static readonly SyntheticModelOptions Model = new()
    {
        VocabSize = 512, EmbeddingLength = 256, LayerCount = 2, HeadCount = 4, ContextLength = 256,
        WeightType = GgmlType.F16, OutlierChannels = 8, OutlierScale = 8, Seed = 11, Name = "gguf-optimize-demo",
    };

    public static async Task<DemoResult> RunAsync(DemoOptions options, IProgressSink progress, CancellationToken ct = default)
    {
        bool keep = options.Workdir is not null;
        string workdir = keep ? Path.GetFullPath(options.Workdir!) : Directory.CreateTempSubdirectory("gguf-optimize-demo-").FullName;
        OutputPaths.EnsureWritableFolder(workdir, "--workdir");
        string model = Path.Combine(workdir, "demo-f16.gguf");
        if (!File.Exists(model))
        {
            progress.Info($"writing the synthetic model {Path.GetFileName(model)}");
            // The writer fills "<model>.partial" and renames it when complete, so progress names the real file.
            SyntheticModel.Write(model, Model, progress, ct);
        }
        string evaluation = Path.Combine(workdir, "evaluation.txt");
        string calibration = Path.Combine(workdir, "calibration.txt");
        using (var llama = LlamaModel.Load(model))
        {
            Sample(llama, evaluation, seed: 1, options.EvaluationParagraphs, options.Threads, progress, ct);
            Sample(llama, calibration, seed: 2, options.CalibrationParagraphs, options.Threads, progress, ct);
        }
        var plan = new IterationPlan
        {
            Model = model,
            Dataset = evaluation,
            Calibration = calibration,
            CalibrationUnit = CalibrationUnit.Samples,
            SubsetSizes = options.SubsetSizes,
            Types = options.Types,
            ContextSize = options.ContextSize,
            Output = Path.Combine(workdir, "run"),
            Threads = options.Threads,
        };
        var result = await IterationLoop.RunAsync(plan, progress, ct);
        if (!keep) RemoveAllBut(workdir, result.ReportFolder!);
        return new DemoResult(result, workdir, keep);
    }

    /// <summary>Paragraphs sampled from the model (seeded), written once; a kept workdir reuses them.</summary>
    private static void Sample(LlamaModel model, string path, ulong seed, int paragraphs, int threads, IProgressSink progress, CancellationToken ct)
    {
        if (File.Exists(path)) return;
        progress.Info($"sampling {paragraphs} paragraphs from the model into {Path.GetFileName(path)}");
        using var generator = new ModelTextGenerator(model, new TextGenerationOptions { Seed = seed, MaxTokens = 200, Threads = threads });
        AtomicFile.WriteAllText(path, generator.Generate(paragraphs, progress, ct).ToDocument());
    }

    /// <summary>Without --workdir only the report stays: the models and logits are large and reproducible.</summary>
    private static void RemoveAllBut(string workdir, string reportFolder)
    {
        string keep = Path.GetFullPath(reportFolder);
        foreach (var file in Directory.EnumerateFiles(workdir, "*", SearchOption.AllDirectories).ToList())
            if (!Path.GetFullPath(file).StartsWith(keep + Path.DirectorySeparatorChar, StringComparison.Ordinal)) File.Delete(file);
        foreach (var dir in Directory.EnumerateDirectories(workdir, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length).ToList())
            if (!keep.StartsWith(Path.GetFullPath(dir), StringComparison.Ordinal) && !Directory.EnumerateFileSystemEntries(dir).Any()) Directory.Delete(dir);
    }
}
