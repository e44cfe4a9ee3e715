using GgufOptimize.Common;
using GgufOptimize.Storage;
using GgufOptimize.Workflow;
using GgufOptimize.Tests.Support;
using GgufOptimize.Tests.Workflow;

namespace GgufOptimize.Tests.Engine;

/// <summary>--hf-model-config on a real run: the config's RoPE base and context reach llama.cpp and the recorded settings.</summary>
[Collection("engine-workflow")]
public class HfConfigCliTests
{
    [Slow]
    [Fact]
    public void A_config_with_another_rope_theta_changes_the_recorded_engine_settings_and_warns()
    {
        using var dir = new TempDir();
        string config = dir.File("config.json"), output = dir.File("logits.h5");
        // The synthetic model states context_length 128 and rope.freq_base 10000: the config overrides both here.
        File.WriteAllText(config, """{"architectures": ["LlamaForCausalLM"], "max_position_embeddings": 64, "rope_theta": 2500.0, "rope_scaling": null}""");
        var r = CliProcess.Run("logits", "-m", WorkflowAssets.Model, "-d", WorkflowAssets.Evaluation, "-o", output, "-t", "1", "-q",
            "--to-chunk", "1", "--format", "full", "--hf-model-config", config);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("warning: --hf-model-config", r.Stderr);
        Assert.Equal(2, r.Stderr.Split("warning: ").Length - 1);
        Assert.Contains("rope_theta 2500 differs from the GGUF's rope.freq_base 10000; using 2500", r.Stderr);
        Assert.Contains("max_position_embeddings 64 differs from the GGUF's context_length 128; using 64", r.Stderr);

        var header = BaselineLogitsReader.ReadHeader(output);
        Assert.Contains("rope_freq_base 2500", header.Engine);
        Assert.Equal(64, header.ContextSize);

        // An explicit --rope-freq-base wins over the config, with a warning that names it.
        string explicitOutput = dir.File("explicit.h5");
        var given = CliProcess.Run("logits", "-m", WorkflowAssets.Model, "-d", WorkflowAssets.Evaluation, "-o", explicitOutput, "-t", "1", "-q",
            "--to-chunk", "1", "-c", "128", "--format", "full", "--rope-freq-base", "5000", "--hf-model-config", config);
        Assert.True(given.ExitCode == 0, given.Stderr);
        Assert.Contains("--rope-freq-base 5000 was given, so the config's value is not used", given.Stderr);
        Assert.Contains("rope_freq_base 5000", BaselineLogitsReader.ReadHeader(explicitOutput).Engine);
        Assert.Equal(128, BaselineLogitsReader.ReadHeader(explicitOutput).ContextSize);
    }

    [Theory]
    [InlineData("logits", "{\"rope_theta\": \"high\"}", "rope_theta is \"high\"")]
    [InlineData("imatrix", "not json", "not valid JSON")]
    [InlineData("kld", null, "the file does not exist")]
    public void A_bad_config_file_exits_2_with_one_line_naming_the_option(string command, string? content, string problem)
    {
        using var dir = new TempDir();
        string config = dir.File("config.json"), output = dir.File("out.h5");
        if (content is not null) File.WriteAllText(config, content);
        var r = CliProcess.Run(command, command == "kld" ? "--target-model" : "-m", WorkflowAssets.Model, "-d", WorkflowAssets.Evaluation,
            "-o", output, "-q", "--hf-model-config", config);
        Assert.Equal(2, r.ExitCode);
        string line = Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains($"--hf-model-config '{config}': {problem}", line);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void An_iterate_plan_with_hf_model_config_runs_every_step_with_the_config_settings()
    {
        using var dir = new TempDir();
        string config = dir.File("config.json");
        File.WriteAllText(config, """{"max_position_embeddings": 64, "rope_theta": 2500}""");
        var plan = PlanFile.Apply(WorkflowAssets.Plan(dir.File("out")) with { ContextSize = 0 }, new PlanFile.PlanValue("hf_model_config", [config], false, dir.Path), "test");
        Assert.Equal(config, plan.HfConfig);
        var warnings = new Warnings();
        var resolved = ResolvedPlan.Check(plan, warnings);
        Assert.Equal(2500f, resolved.Plan.Engine.RopeFreqBase);
        Assert.Equal(64, resolved.ContextSize);
        Assert.Equal(2, warnings.Messages.Count);
        Assert.Contains("rope_freq_base=2500", resolved.Plan.Engine.LogitsKey());
    }

    private sealed class Warnings : IProgressSink
    {
        public List<string> Messages { get; } = [];
        public void Start(string description, long total) { }
        public void Report(long done, long tokens = 0) { }
        public void Info(string message) { }
        public void Warn(string message) => Messages.Add(message);
        public void Finish() { }
    }
}
