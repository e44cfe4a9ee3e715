using GgufOptimize.Common;
using GgufOptimize.Imatrix;
using GgufOptimize.Quantization;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Quantization;

public class QuantizeBadInputTests
{
    private static QuantizeOptions Options(TempDir dir, string types) => new()
    {
        ModelPath = SharedAssets.AidreamsModel,
        OutputDirectory = dir.Path,
        Types = QuantizationTypes.ParseList(types),
        Threads = 1,
    };

    private static GgufOptimizeException BadInput(Action action)
    {
        var e = Assert.Throws<GgufOptimizeException>(action);
        Assert.Equal(FailureKind.BadInput, e.Kind);
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    [Fact]
    public void Type_names_are_llama_quantize_names_case_insensitively_with_aliases()
    {
        Assert.Equal("Q4_K_M", QuantizationTypes.Parse("q4_k_m").Name);
        Assert.Equal("Q4_K_M", QuantizationTypes.Parse("Q4_K").Name);
        Assert.Equal(15, QuantizationTypes.Parse("q4_k").FileType);
        Assert.True(QuantizationTypes.Parse("copy").OnlyCopy);
        Assert.Equal(["Q6_K", "IQ4_XS", "TQ1_0"], QuantizationTypes.ParseList("Q6_K, iq4_xs,TQ1_0,q6_k").Select(t => t.Name));
        Assert.Contains("unknown quantization type 'Q7_K'", BadInput(() => QuantizationTypes.Parse("Q7_K")).Message);
    }

    [Fact]
    public void A_config_file_lists_types_under_quantizations()
    {
        using var dir = new TempDir();
        string good = dir.File("q.yaml");
        File.WriteAllText(good, "quantizations:\n  - IQ4_NL\n  - q5_k_m\n  - Q8_0\nallowed_quantization_types:\n  - name: Q4_0\n");
        Assert.Equal(["IQ4_NL", "Q5_K_M", "Q8_0"], QuantizationTypes.LoadConfig(good).Select(t => t.Name));
        File.WriteAllText(good, "quantizations: [Q4_0, bogus]\n");
        Assert.Contains("bogus", BadInput(() => QuantizationTypes.LoadConfig(good)).Message);
        File.WriteAllText(good, "types:\n  - Q4_0\n");
        Assert.Contains("no 'quantizations:'", BadInput(() => QuantizationTypes.LoadConfig(good)).Message);
        File.WriteAllText(good, "quantizations: [Q4_0\n");
        Assert.Contains("not valid YAML", BadInput(() => QuantizationTypes.LoadConfig(good)).Message);
    }

    [SkippableFact]
    public void Tensor_type_rules_need_a_pattern_a_known_type_and_a_valid_expression()
    {
        SharedAssets.RequireRoot();
        var rule = TensorTypeRule.Parse("Attn_V=Q8_0");
        Assert.Equal("attn_v", rule.Pattern);
        BadInput(() => TensorTypeRule.Parse("attn_v"));
        Assert.Contains("unknown tensor type 'q9_0'", BadInput(() => TensorTypeRule.Parse("attn_v=q9_0")).Message);
        Assert.Contains("regular expression", BadInput(() => TensorTypeRule.Parse("attn_(v=q8_0")).Message);
    }

    [SkippableFact]
    public void Types_llama_quantize_refuses_without_an_imatrix_fail_before_anything_is_written()
    {
        using var dir = new TempDir();
        var e = BadInput(() => ModelQuantizer.Run(Options(dir, "Q8_0,IQ2_XS,IQ1_M"), NullProgress.Instance));
        Assert.Contains("IQ2_XS, IQ1_M", e.Message);
        Assert.Contains("--imatrix", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [SkippableFact]
    public void An_imatrix_of_another_model_is_refused()
    {
        using var dir = new TempDir();
        var foreign = new ImportanceMatrix { ChunkCount = 1, ChunkSize = 16 };
        foreign.Add("blk.9.attn_q.weight", new double[64], [16]);
        ImatrixFile.Save(foreign, dir.File("foreign.gguf"), ImatrixFileFormat.Gguf);
        var e = BadInput(() => ModelQuantizer.Run(Options(dir, "Q4_0") with { ImatrixPath = dir.File("foreign.gguf") }, NullProgress.Instance));
        Assert.Contains("blk.9.attn_q.weight", e.Message);
        Assert.Contains("another model", e.Message);

        var narrow = new ImportanceMatrix { ChunkCount = 1, ChunkSize = 16 };
        narrow.Add("blk.0.attn_q.weight", new double[32], [16]);
        ImatrixFile.Save(narrow, dir.File("narrow.dat"), ImatrixFileFormat.Dat);
        e = BadInput(() => ModelQuantizer.Run(Options(dir, "Q4_0") with { ImatrixPath = dir.File("narrow.dat") }, NullProgress.Instance));
        Assert.Contains("32 values for 'blk.0.attn_q.weight'", e.Message);
        Assert.Contains("64 input columns", e.Message);
        Assert.Empty(Directory.GetFiles(dir.Path, "aidreams*"));
    }

    [SkippableFact]
    public void A_corrupt_or_missing_imatrix_is_refused()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("noise.dat"), [1, 0, 0, 0, 200, 0, 0, 0, 65]);
        Assert.Contains("not a valid legacy .dat imatrix", BadInput(() => ModelQuantizer.Run(Options(dir, "Q4_0") with { ImatrixPath = dir.File("noise.dat") }, NullProgress.Instance)).Message);
        Assert.Contains("does not exist", BadInput(() => ModelQuantizer.Run(Options(dir, "Q4_0") with { ImatrixPath = dir.File("none.gguf") }, NullProgress.Instance)).Message);
        // A model is a GGUF file, but not an importance matrix.
        Assert.Contains("not an importance matrix", BadInput(() => ModelQuantizer.Run(Options(dir, "Q4_0") with { ImatrixPath = SharedAssets.AidreamsModel }, NullProgress.Instance)).Message);
    }

    [SkippableFact]
    public void An_output_directory_that_cannot_be_written_is_refused_up_front()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("file"), "x");
        var e = BadInput(() => ModelQuantizer.Run(Options(dir, "Q4_0") with { OutputDirectory = Path.Combine(dir.File("file"), "out") }, NullProgress.Instance));
        Assert.Contains("--output", e.Message);
    }

    [SkippableFact]
    public void Include_and_exclude_weights_filter_the_imatrix_and_cannot_be_combined()
    {
        using var dir = new TempDir();
        var m = new ImportanceMatrix { ChunkCount = 1, ChunkSize = 16 };
        m.Add("blk.0.attn_q.weight", Enumerable.Repeat(16.0, 64).ToArray(), [16]);
        m.Add("blk.0.ffn_down.weight", Enumerable.Repeat(16.0, 172).ToArray(), [16]);
        ImatrixFile.Save(m, dir.File("m.gguf"), ImatrixFileFormat.Gguf);
        var options = Options(dir, "Q4_0") with { ImatrixPath = dir.File("m.gguf"), DryRun = true };
        BadInput(() => ModelQuantizer.Run(options with { IncludeWeights = ["attn"], ExcludeWeights = ["ffn"] }, NullProgress.Instance));
        Assert.Contains("no entry", BadInput(() => ModelQuantizer.Run(options with { IncludeWeights = ["output"] }, NullProgress.Instance)).Message);
        Assert.Single(ModelQuantizer.Run(options with { ExcludeWeights = ["ffn_down"] }, NullProgress.Instance));
    }

    [SkippableFact]
    public void Bad_model_files_are_refused()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("text.gguf"), "not a model at all");
        BadInput(() => ModelQuantizer.Run(Options(dir, "Q4_0") with { ModelPath = dir.File("text.gguf") }, NullProgress.Instance));
        BadInput(() => ModelQuantizer.Run(Options(dir, "Q4_0") with { ModelPath = dir.File("missing.gguf") }, NullProgress.Instance));
    }

    [SkippableFact]
    public void An_output_that_would_replace_the_input_model_is_refused()
    {
        using var dir = new TempDir();
        string input = dir.File("tiny-F16.gguf");
        File.Copy(SharedAssets.AidreamsModel, input);
        var e = BadInput(() => ModelQuantizer.Run(Options(dir, "F16") with { ModelPath = input, Overwrite = true }, NullProgress.Instance));
        Assert.Contains("input model itself", e.Message);
    }
}
