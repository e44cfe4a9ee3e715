using GgufOptimize.Common;
using GgufOptimize.Tests.Support;
using GgufOptimize.Workflow;

namespace GgufOptimize.Tests.Workflow;

public class PlanFileTests
{
    [Fact]
    public void Reads_every_kind_of_value_and_resolves_paths_against_the_plan_folder()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("plans"));
        string path = dir.File("plans/plan.yaml");
        File.WriteAllText(path, """
            model: ../models/base-f16.gguf
            dataset: /abs/eval.txt
            calibration: jsonl:data/calib.jsonl
            calibration_unit: tokens
            subset_sizes: [200, 500, 1_000]
            types: [Q4_0, q4_k_m]
            context_size: 256
            min_improvement: 2%
            confidence: 0.9
            early_stopping: yes
            output: out
            """);
        var plan = PlanFile.Load(path);
        Assert.Equal(Path.Combine(dir.File("plans"), "../models/base-f16.gguf"), plan.Model);
        Assert.Equal("/abs/eval.txt", plan.Dataset);
        Assert.Equal("jsonl:" + Path.Combine(dir.File("plans"), "data/calib.jsonl"), plan.Calibration);
        Assert.Equal(CalibrationUnit.Tokens, plan.CalibrationUnit);
        Assert.Equal(new long[] { 200, 500, 1000 }, plan.SubsetSizes);
        Assert.Equal(new[] { "Q4_0", "q4_k_m" }, plan.Types);
        Assert.Equal(256, plan.ContextSize);
        Assert.Equal(0.02, plan.MinImprovement, 12);
        Assert.Equal(0.9, plan.Confidence);
        Assert.True(plan.EarlyStopping);
        Assert.Equal(Path.Combine(dir.File("plans"), "out"), plan.Output);
        Assert.Equal(1000, plan.Resamples); // untouched keys keep their defaults
    }

    [Fact]
    public void Command_line_values_override_the_file_and_take_comma_lists()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("p.yaml"), "types: [Q4_0]\nsubset_sizes: [1, 2]\n");
        var plan = PlanFile.Load(dir.File("p.yaml"));
        plan = PlanFile.Apply(plan, PlanFile.PlanValue.Scalar("types", "Q5_K_M, Q6_K"));
        plan = PlanFile.Apply(plan, PlanFile.PlanValue.Scalar("subset_sizes", "10,20,40"));
        plan = PlanFile.Apply(plan, PlanFile.PlanValue.Scalar("model", "rel.gguf"));
        Assert.Equal(new[] { "Q5_K_M", "Q6_K" }, plan.Types);
        Assert.Equal(new long[] { 10, 20, 40 }, plan.SubsetSizes);
        Assert.Equal("rel.gguf", plan.Model); // command-line paths stay relative to the working folder
        Assert.Equal("--subset-sizes", PlanFile.OptionName("subset_sizes"));
        Assert.Equal("0.01", PlanFile.Show("min_improvement", new IterationPlan()));
    }

    [Fact]
    public void An_unknown_key_is_named_with_the_valid_ones()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("p.yaml"), "model: m.gguf\nsubset_size: [1, 2]\n");
        var e = Assert.Throws<GgufOptimizeException>(() => PlanFile.Load(dir.File("p.yaml")));
        Assert.Equal(FailureKind.BadInput, e.Kind);
        Assert.Contains("unknown key 'subset_size'", e.Message);
        Assert.Contains("valid keys: model, dataset, baseline_logits, calibration", e.Message);
        Assert.Contains("subset_sizes", e.Message);
    }

    [Theory]
    [InlineData("context_size: big", "context_size' must be a whole number")]
    [InlineData("early_stopping: maybe", "must be true or false")]
    [InlineData("calibration_unit: bytes", "must be samples, tokens or chunks")]
    [InlineData("subset_sizes: [1, x]", "must hold whole numbers")]
    [InlineData("types: {a: 1}", "must be a value or a list")]
    [InlineData("- just\n- a list", "must be a mapping")]
    [InlineData("model: [a, b]", "takes one value, not a list")]
    [InlineData("model: 'unterminated", "not valid YAML")]
    public void Malformed_values_are_one_line_errors(string yaml, string expected)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("p.yaml"), yaml + "\n");
        var e = Assert.Throws<GgufOptimizeException>(() => PlanFile.Load(dir.File("p.yaml")));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_missing_plan_file_is_bad_input()
    {
        var e = Assert.Throws<GgufOptimizeException>(() => PlanFile.Load("/nonexistent/plan.yaml"));
        Assert.Contains("does not exist", e.Message);
    }
}
