using System.Text.Json;
using GgufOptimize.Common;
using GgufOptimize.Gguf;
using GgufOptimize.Recipes;
using GgufOptimize.Tests.Support;
using GgufOptimize.Workflow;
using Xunit.Abstractions;

namespace GgufOptimize.Tests.Workflow;

/// <summary>recipe: entries in iterate, and the report's recipe plot and sensitivity heat maps, on real llama.cpp.</summary>
[Collection("engine-workflow")]
public class IterateRecipeTests(ITestOutputHelper output)
{
    /// <summary>sensitivity → recipe (not measured) on the workflow model; returns the recipe's config stem DIR/NAME.</summary>
    private static string MakeRecipe(TempDir dir)
    {
        string baseline = dir.File("base.h5");
        GgufOptimize.Logits.LogitsJob.Run(new GgufOptimize.Logits.LogitsJobOptions
        {
            ModelPath = WorkflowAssets.Model, DatasetPath = WorkflowAssets.Evaluation, OutputPath = baseline, ContextSize = 128, Threads = 1,
        }, NullProgress.Instance, default);
        SensitivityRun.Run(new SensitivityOptions
        {
            ModelPath = WorkflowAssets.Model, BaselineLogits = baseline, Types = ["Q4_K", "Q8_0"], Grouping = GroupingMode.Tensor,
            OutputPath = dir.File("sens.json"), Chunks = 2, Evaluation = new() { Threads = 1 },
        }, NullProgress.Instance, default);
        RecipeRun.Run(new RecipeOptions
        {
            SensitivityPath = dir.File("sens.json"), ModelPath = WorkflowAssets.Model, BudgetBpw = 6, OutputDirectory = dir.File("recipes"), Name = "mix",
            SkipMeasure = true, Evaluation = new() { Threads = 1 },
        }, NullProgress.Instance, default);
        return dir.File("recipes/mix");
    }

    [Slow]
    [Fact]
    public async Task A_recipe_competes_beside_a_type_is_recorded_resumes_and_shows_on_the_report()
    {
        using var dir = new TempDir();
        string recipe = MakeRecipe(dir);
        var plan = WorkflowAssets.Plan(dir.File("out")) with { SubsetSizes = [2], Types = ["Q4_K_M", "recipe:" + recipe], EvalChunks = 6 };
        var result = await IterationLoop.RunAsync(plan, NullProgress.Instance);

        var mix = result.Types.Single(t => t.Type == "recipe-mix");
        var q4 = result.Types.Single(t => t.Type == "Q4_K_M");
        Assert.Equal([0, 1], mix.Iterations.Select(i => i.Iteration));
        // Same imatrix file for both at iteration 1, same chunks compared.
        Assert.Equal(q4.Iterations[1].Calibration!.Tag, mix.Iterations[1].Calibration!.Tag);
        Assert.Equal(q4.Iterations[1].Overall.Tokens, mix.Iterations[1].Overall.Tokens);
        Assert.NotNull(mix.Iterations[1].VersusPrevious); // the same stopping rule judged the step
        // The quantized model has the recipe's tensor types.
        var rules = GgufOptimize.Quantization.QuantizationTypes.LoadConfigTensorTypes(recipe + ".yaml");
        var made = GgufFile.Read(mix.Iterations[1].QuantizedModel);
        foreach (var t in made.Tensors.Where(t => t.Dimensions.Count > 1))
        {
            var rule = rules.First(r => new System.Text.RegularExpressions.Regex(r.Pattern).IsMatch(t.Name));
            output.WriteLine($"{t.Name}: {t.Type} (rule {rule})");
            Assert.Equal(rule.TypeName.ToUpperInvariant(), GgufOptimize.Quantization.TensorTypeCatalog.Name((int)t.Type));
        }
        string state = File.ReadAllText(dir.File("out/state.json"));
        Assert.Contains("quantize/recipe-mix/1", state);
        Assert.Contains("kld/recipe-mix/1", state);

        // The report: the recipe beside the type on the bits-per-weight plot, the table's heat maps, values from the results.
        string report = dir.File("out/report");
        string html = File.ReadAllText(Path.Combine(report, "report.html"));
        foreach (var png in new[] { "score_vs_bpw.png", "sensitivity_Q4_K.png", "sensitivity_Q8_0.png" })
        {
            Assert.True(new FileInfo(Path.Combine(report, png)).Length > 1000, png);
            Assert.Contains($"data-file=\"{png}\"", html);
        }
        Assert.Contains("Triangles are recipes", html);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "report.json")));
        var types = json.RootElement.GetProperty("types").EnumerateArray().ToDictionary(t => t.GetProperty("type").GetString()!, t => t.GetProperty("iterations").EnumerateArray().ToList());
        foreach (var t in new[] { mix, q4 })
            foreach (var outcome in t.Iterations)
            {
                var row = types[t.Type].Single(r => r.GetProperty("file").GetString() == Path.GetFileName(outcome.ComparisonFile));
                Assert.Equal(outcome.Overall.Score, row.GetProperty("score").GetDouble(), 9);
            }
        double Bits(string type) => types[type][0].GetProperty("bits_per_weight").GetDouble();
        Assert.InRange(Bits("recipe-mix"), Bits("Q4_K_M"), 16);

        // A rerun redoes nothing; an edited recipe is quantized and compared again, the type is not.
        var again = await IterationLoop.RunAsync(plan, NullProgress.Instance);
        Assert.Equal(0, again.StepsRun);
        File.WriteAllText(recipe + ".yaml", File.ReadAllText(recipe + ".yaml").Replace("=q8_0'", "=q6_k'").Replace("=q4_k'", "=q6_k'"));
        var edited = await IterationLoop.RunAsync(plan, NullProgress.Instance);
        Assert.Equal(4, edited.StepsRun);
    }

    [Fact]
    public void A_recipe_path_in_a_plan_file_is_relative_to_the_plan_file_and_names_its_yaml()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("plan.yaml"), "types: [Q4_K_M, 'recipe:r/mix', 'recipe:/abs/x.yaml']\n");
        var plan = PlanFile.Load(dir.File("plan.yaml"));
        Assert.Equal(["Q4_K_M", "recipe:" + Path.Combine(dir.Path, "r/mix"), "recipe:/abs/x.yaml"], plan.Types);
        Assert.Equal(Path.Combine(dir.Path, "r/mix") + ".yaml", IterationEntry.ConfigPath(plan.Types[1]));
        Assert.Equal("/abs/x.yaml", IterationEntry.ConfigPath(plan.Types[2]));
    }

    [Theory]
    [InlineData("missing", "does not exist")]
    [InlineData("notarecipe", "no 'tensor_types:'")]
    [InlineData("othermodel", "matches no tensor")]
    [InlineData("", "names no recipe")]
    public void A_bad_recipe_entry_exits_2_naming_it(string name, string message)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("notarecipe.yaml"), "quantizations:\n  - Q4_K_M\n");
        File.WriteAllText(dir.File("othermodel.yaml"), "quantizations:\n  - Q8_0\ntensor_types:\n  - 'blk\\.77\\.ffn_up\\.weight=q4_k'\n  - '.*=f16'\n");
        string entry = name.Length == 0 ? "recipe:" : "recipe:" + dir.File(name);
        var r = CliProcess.Run("iterate", "-m", WorkflowAssets.Model, "--dataset", WorkflowAssets.Evaluation, "--calibration", WorkflowAssets.Calibration,
            "--subset-sizes", "2", "--calibration-unit", "chunks", "--types", "Q4_K_M," + entry, "--output", dir.File("out"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("types entry 'recipe:", r.Stderr);
        Assert.Contains(message, r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.False(File.Exists(dir.File("out/state.json")));
    }
}
