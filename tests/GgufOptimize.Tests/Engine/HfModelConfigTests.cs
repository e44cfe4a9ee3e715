using GgufOptimize.Common;
using GgufOptimize.Engine;

namespace GgufOptimize.Tests.Engine;

/// <summary>The rules by which a Hugging Face config.json corrects a GGUF's context and RoPE settings.</summary>
public class HfModelConfigTests
{
    private static readonly GgufModelFacts Llama = new(TrainContext: 4096, RopeFreqBase: 10000, LinearRopeFactor: null);

    private static HfConfigResolution Resolve(string json, GgufModelFacts? gguf = null, int contextSize = 0, EngineSettings? settings = null) =>
        HfModelConfig.Resolve(json, "config.json", gguf ?? Llama, contextSize, settings ?? EngineSettings.Default);

    [Fact]
    public void Values_equal_to_the_gguf_change_nothing_and_warn_nothing()
    {
        var r = Resolve("""{"max_position_embeddings": 4096, "rope_theta": 10000.0, "rope_scaling": null, "hidden_size": 4096}""");
        Assert.Equal(EngineSettings.Default, r.Settings);
        Assert.Empty(r.Warnings);
    }

    [Fact]
    public void Values_the_gguf_lacks_are_taken_from_the_config_with_a_warning()
    {
        var r = Resolve("""{"max_position_embeddings": 2048, "rope_theta": 500000}""", new GgufModelFacts(null, null, null));
        Assert.Equal(2048, r.Settings.TrainContext);
        Assert.Equal(500000f, r.Settings.RopeFreqBase);
        Assert.Equal(2, r.Warnings.Count);
        Assert.Contains("the GGUF, which states no context_length; using 2048", r.Warnings[0]);
        Assert.Contains("the GGUF, which states no rope.freq_base; using 500000", r.Warnings[1]);
        Assert.All(r.Warnings, w => Assert.StartsWith("--hf-model-config config.json:", w));
    }

    [Fact]
    public void Differing_values_use_the_config_and_name_both()
    {
        var r = Resolve("""{"max_position_embeddings": 8192, "rope_theta": 1000000}""");
        Assert.Equal(8192, r.Settings.TrainContext);
        Assert.Equal(1_000_000f, r.Settings.RopeFreqBase);
        Assert.Contains("max_position_embeddings 8192 differs from the GGUF's context_length 4096; using 8192", r.Warnings[0]);
        Assert.Contains("rope_theta 1000000 differs from the GGUF's rope.freq_base 10000; using 1000000", r.Warnings[1]);
    }

    [Fact]
    public void Explicit_options_win_and_a_disagreement_is_warned_once()
    {
        var given = EngineSettings.Default with { RopeFreqBase = 2500, RopeFreqScale = 0.5f };
        var r = Resolve("""{"max_position_embeddings": 8192, "rope_theta": 1000000, "rope_scaling": {"type": "linear", "factor": 4}}""", contextSize: 512, settings: given);
        Assert.Equal(given, r.Settings);
        Assert.Equal(3, r.Warnings.Count);
        Assert.Contains("--context-size 512 was given, so the config's value is not used", r.Warnings[0]);
        Assert.Contains("--rope-freq-base 2500 was given", r.Warnings[1]);
        Assert.Contains("--rope-freq-scale 0.5 was given", r.Warnings[2]);

        // An explicit value equal to the config's is no disagreement.
        var same = Resolve("""{"rope_theta": 2500}""", settings: EngineSettings.Default with { RopeFreqBase = 2500 });
        Assert.Empty(same.Warnings);
    }

    [Theory]
    [InlineData("type")]
    [InlineData("rope_type")]
    public void Linear_scaling_becomes_a_frequency_scale_of_one_over_the_factor(string typeKey)
    {
        var r = Resolve("{\"rope_scaling\": {\"" + typeKey + "\": \"linear\", \"factor\": 4.0}}");
        Assert.Equal(0.25f, r.Settings.RopeFreqScale);
        Assert.Contains("linear rope_scaling factor 4 differs from the GGUF, which states no linear RoPE scaling; using --rope-freq-scale 0.25", Assert.Single(r.Warnings));

        // A GGUF that already has the factor needs nothing.
        var stated = Resolve("""{"rope_scaling": {"type": "linear", "factor": 4.0}}""", Llama with { LinearRopeFactor = 4 });
        Assert.Equal(0f, stated.Settings.RopeFreqScale);
        Assert.Empty(stated.Warnings);
    }

    [Theory]
    [InlineData("yarn")]
    [InlineData("llama3")]
    [InlineData("dynamic")]
    public void Other_scaling_types_are_not_applied_and_named(string type)
    {
        var r = Resolve("{\"rope_scaling\": {\"rope_type\": \"" + type + "\", \"factor\": 8.0, \"original_max_position_embeddings\": 8192}}");
        Assert.Equal(EngineSettings.Default, r.Settings);
        Assert.Contains($"rope_scaling type '{type}' is not applied", Assert.Single(r.Warnings));
    }

    [Theory]
    [InlineData("{not json", "not valid JSON")]
    [InlineData("[1, 2]", "expected an object")]
    [InlineData("""{"max_position_embeddings": "4096"}""", "max_position_embeddings is \"4096\" (a string), expected a positive whole number")]
    [InlineData("""{"max_position_embeddings": 40.5}""", "max_position_embeddings is 40.5")]
    [InlineData("""{"rope_theta": -1}""", "rope_theta is -1 (a number), expected a positive number")]
    [InlineData("""{"rope_scaling": "linear"}""", "rope_scaling is \"linear\" (a string), expected an object or null")]
    [InlineData("""{"rope_scaling": {"factor": 2}}""", "rope_scaling has no type")]
    [InlineData("""{"rope_scaling": {"type": "linear"}}""", "linear rope_scaling has no factor")]
    [InlineData("""{"rope_scaling": {"type": "linear", "factor": true}}""", "rope_scaling.factor is true")]
    public void A_bad_config_is_bad_input_naming_the_option_and_the_problem(string json, string problem)
    {
        var e = Assert.Throws<GgufOptimizeException>(() => Resolve(json));
        Assert.Equal(FailureKind.BadInput, e.Kind);
        Assert.StartsWith("--hf-model-config 'config.json': ", e.Message);
        Assert.Contains(problem, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_missing_file_is_bad_input_naming_the_option()
    {
        var e = Assert.Throws<GgufOptimizeException>(() => HfModelConfig.Apply("/nonexistent/config.json", "/nonexistent/model.gguf", 0, EngineSettings.Default));
        Assert.Equal(FailureKind.BadInput, e.Kind);
        Assert.Equal("--hf-model-config '/nonexistent/config.json': the file does not exist", e.Message);
    }
}
