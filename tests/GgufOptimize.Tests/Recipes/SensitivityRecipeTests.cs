using GgufOptimize.Common;
using GgufOptimize.Gguf;
using GgufOptimize.Logits;
using GgufOptimize.Quantization;
using GgufOptimize.Recipes;
using GgufOptimize.Tests.Support;
using GgufOptimize.Tests.Workflow;

namespace GgufOptimize.Tests.Recipes;

/// <summary>sensitivity and recipe driving real llama.cpp on the 2-layer synthetic model of the workflow tests.</summary>
[Collection("engine-workflow")]
public class SensitivityRecipeTests
{
    /// <summary>Cancels the run once a given number of measurements have finished; counts the ones reused.</summary>
    private sealed class CountingProgress(int cancelAfter, CancellationTokenSource cts) : IProgressSink
    {
        public int Finished, Stored;
        public void Start(string description, long total) { }
        public void Report(long done, long tokens = 0) { }
        public void Warn(string message) { }
        public void Finish() { }
        public void Info(string message)
        {
            if (!message.StartsWith('[')) return;
            Finished++;
            if (message.EndsWith("(stored)", StringComparison.Ordinal)) Stored++;
            if (Finished == cancelAfter) cts.Cancel();
        }
    }

    [Slow]
    [Fact]
    public void Engine_settings_reach_every_comparison_of_a_sensitivity_run()
    {
        using var tmp = new TempDir();
        string baseline = tmp.File("base.h5");
        LogitsJob.Run(new LogitsJobOptions { ModelPath = WorkflowAssets.Model, DatasetPath = WorkflowAssets.Evaluation, OutputPath = baseline, ContextSize = 128, Threads = 1 },
            NullProgress.Instance, default);
        // The baseline was made with the model's own RoPE base; the reference model run with another one can only
        // reproduce it if the setting is dropped on the way to llama.cpp.
        var table = SensitivityRun.Run(new SensitivityOptions
        {
            ModelPath = WorkflowAssets.Model, BaselineLogits = baseline, Types = ["Q8_0"], Grouping = GroupingMode.Tensor,
            OutputPath = tmp.File("sens.json"), Chunks = 2,
            Evaluation = new() { Threads = 1, Engine = GgufOptimize.Engine.EngineSettings.Default with { RopeFreqBase = 5000 } },
        }, NullProgress.Instance, default);
        Assert.True(table.ReferenceMeanKld > 1e-4, $"reference mean KLD {table.ReferenceMeanKld}: the RoPE setting did not reach llama.cpp");
    }

    [Slow]
    [Fact]
    public void Sensitivity_resumes_without_redoing_groups_and_the_recipe_fits_its_budget_and_round_trips()
    {
        using var tmp = new TempDir();
        string baseline = tmp.File("base.h5");
        LogitsJob.Run(new LogitsJobOptions { ModelPath = WorkflowAssets.Model, DatasetPath = WorkflowAssets.Evaluation, OutputPath = baseline, ContextSize = 128, Threads = 1 },
            NullProgress.Instance, default);
        var options = new SensitivityOptions
        {
            ModelPath = WorkflowAssets.Model, BaselineLogits = baseline, Types = ["Q4_K", "Q8_0"], Grouping = GroupingMode.Tensor,
            OutputPath = tmp.File("sens.json"), Chunks = 3, Evaluation = new() { Threads = 1 },
        };

        using (var cts = new CancellationTokenSource())
        {
            var first = new CountingProgress(4, cts);
            Assert.ThrowsAny<OperationCanceledException>(() => SensitivityRun.Run(options, first, cts.Token));
            Assert.False(File.Exists(tmp.File("sens.json")));
        }
        using var never = new CancellationTokenSource();
        var second = new CountingProgress(int.MaxValue, never);
        var table = SensitivityRun.Run(options, second, never.Token);
        Assert.Equal(4, second.Stored);
        int groups = table.Groups.Count;
        Assert.Equal(1 + groups * 2 + 2, second.Finished);
        Assert.Equal(groups * 2, table.Entries.Count);
        Assert.All(table.Entries, e => Assert.True(double.IsFinite(e.Delta) && double.IsFinite(e.DeltaSe) && e.Bytes > 0, e.ToString()));
        // Quantizing attention and FFN weights to Q4_K must cost more than Q8_0 (outlier channels make it visible).
        Assert.True(table.Additivity.Single(a => a.Type == "Q4_K").Measured > table.Additivity.Single(a => a.Type == "Q8_0").Measured);
        foreach (var file in new[] { "sens.csv", "sens.md", "sens-Q4_K.png", "sens-Q8_0.png" }) Assert.True(File.Exists(tmp.File(file)), file);

        // A budget between all-Q4_K and all-Q8_0, given as a file size: the written model must not exceed it.
        var q4 = table.Additivity.Single(a => a.Type == "Q4_K").TensorBytes;
        var q8 = table.Additivity.Single(a => a.Type == "Q8_0").TensorBytes;
        long budget = GgufFile.Read(WorkflowAssets.Model).DataOffset + 8192 + (q4 + q8) / 2;
        var result = RecipeRun.Run(new RecipeOptions
        {
            SensitivityPath = tmp.File("sens.json"), ModelPath = WorkflowAssets.Model, BudgetSize = budget.ToString(System.Globalization.CultureInfo.InvariantCulture),
            OutputDirectory = tmp.File("out"), Name = "mix", EvalChunks = 3, Evaluation = new() { Threads = 1 },
        }, NullProgress.Instance, default);
        Assert.True(new FileInfo(result.ModelPath).Length <= budget, $"{new FileInfo(result.ModelPath).Length} > {budget}");
        Assert.Contains(result.Choices, c => c.Type == "Q4_K");
        Assert.Contains(result.Choices, c => c.Type == "Q8_0");
        Assert.NotNull(result.Measured);
        Assert.True(double.IsFinite(result.Measured!.MeanKld) && result.Measured.MeanKld > 0);

        // The config quantize reads gives the same tensor types.
        var again = ModelQuantizer.Run(new QuantizeOptions
        {
            ModelPath = WorkflowAssets.Model, Types = QuantizationTypes.LoadConfig(result.ConfigPath), TensorTypes = QuantizationTypes.LoadConfigTensorTypes(result.ConfigPath),
            OutputDirectory = tmp.File("again"), Threads = 1,
        }, NullProgress.Instance, default)[0];
        var made = GgufFile.Read(result.ModelPath);
        var remade = GgufFile.Read(again.OutputPath);
        Assert.Equal(made.Tensors.Select(t => (t.Name, t.Type)), remade.Tensors.Select(t => (t.Name, t.Type)));
        Assert.Equal(File.ReadAllLines(result.ArgumentsPath).Length, result.Choices.Count);
    }

    [Theory]
    [InlineData("--types", "sensitivity", "-m", "m.gguf", "--baseline-logits", "b.h5", "--types", "Q9_X")]
    [InlineData("--chunks", "sensitivity", "-m", "m.gguf", "--baseline-logits", "b.h5", "--types", "Q4_K", "--chunks", "1")]
    [InlineData("--groups", "sensitivity", "-m", "m.gguf", "--baseline-logits", "b.h5", "--types", "Q4_K", "--groups", "rows")]
    [InlineData("--baseline-logits", "sensitivity", "-m", "MODEL", "--baseline-logits", "missing.h5", "--types", "Q4_K")]
    [InlineData("--budget-bpw", "recipe", "--sensitivity", "s.json", "-m", "m.gguf", "--budget-bpw", "4.5", "--like", "Q4_K_M", "--name", "x")]
    [InlineData("--sensitivity", "recipe", "--sensitivity", "missing.json", "-m", "m.gguf", "--budget-bpw", "4.5", "--name", "x")]
    [InlineData("--objective", "recipe", "--sensitivity", "s.json", "-m", "m.gguf", "--budget-bpw", "4.5", "--name", "x", "--objective", "tails")]
    [InlineData("--margin-of-error", "sensitivity", "-m", "MODEL", "--baseline-logits", "MODEL", "--types", "Q4_K", "--early-stopping", "--margin-of-error", "2")]
    public void Bad_inputs_exit_2_naming_the_option(string option, params string[] args)
    {
        var resolved = args.Select(a => a == "MODEL" ? WorkflowAssets.Model : a).ToArray();
        var r = CliProcess.Run(resolved);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(option, r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
    }
}
