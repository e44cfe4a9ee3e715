using GgufOptimize.Engine;
using GgufOptimize.Gguf;
using GgufOptimize.Synthetic;
using GgufOptimize.Workflow;

namespace GgufOptimize.Tests.Workflow;

/// <summary>
/// A small synthetic model with strong outlier channels and text sampled from it, made once for all workflow
/// tests (a few seconds): evaluation text of about 16 chunks of 128 tokens, calibration text of about 25.
/// </summary>
internal static class WorkflowAssets
{
    private static readonly Lazy<(string Folder, string Model, string Evaluation, string Calibration)> Assets = new(Create);

    public static string Model => Assets.Value.Model;
    public static string Evaluation => Assets.Value.Evaluation;
    public static string Calibration => Assets.Value.Calibration;

    public static readonly SyntheticModelOptions ModelOptions = new()
    {
        VocabSize = 512, EmbeddingLength = 256, LayerCount = 2, HeadCount = 4, ContextLength = 128,
        WeightType = GgmlType.F16, OutlierChannels = 8, OutlierScale = 8, Seed = 5, Name = "workflow-test",
    };

    /// <summary>A plan over the shared assets: one type, three calibration sizes in chunks, one thread.</summary>
    public static IterationPlan Plan(string output) => new()
    {
        Model = Model, Dataset = Evaluation, Calibration = Calibration, CalibrationUnit = CalibrationUnit.Chunks,
        SubsetSizes = [2, 6, 14], Types = ["Q4_0"], ContextSize = 128, Output = output, Threads = 1, Resamples = 400,
    };

    private static (string, string, string, string) Create()
    {
        string folder = Directory.CreateTempSubdirectory("ggufopt-workflow-assets-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(folder, true); } catch (IOException) { } };
        string model = Path.Combine(folder, "workflow-f16.gguf");
        SyntheticModel.Write(model, ModelOptions);
        string evaluation = Path.Combine(folder, "evaluation.txt"), calibration = Path.Combine(folder, "calibration.txt");
        using var llama = LlamaModel.Load(model);
        foreach (var (path, seed, count) in new[] { (evaluation, 1UL, 220), (calibration, 2UL, 330) })
        {
            using var generator = new ModelTextGenerator(llama, new TextGenerationOptions { Seed = seed, MaxTokens = 120, Threads = 1 });
            File.WriteAllText(path, generator.Generate(count).ToDocument());
        }
        return (folder, model, evaluation, calibration);
    }
}

/// <summary>Tests that run llama.cpp share two cores: they run one at a time.</summary>
[CollectionDefinition("engine-workflow", DisableParallelization = true)]
public sealed class EngineWorkflowCollection;
