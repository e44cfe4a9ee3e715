using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Gguf;
using GgufOptimize.Tests.Workflow;
using GgufOptimize.Workflow;
using LLama.Native;

namespace GgufOptimize.Tests.Engine;

/// <summary>
/// The engine options reach llama.cpp: parsed once (EngineOptionTable), written into the native model/context
/// parameter structs, and read back from llama.cpp's own report of the model and context it built.
/// </summary>
[Collection("engine-workflow")]
public class EngineSettingsTests
{
    private static EngineSettings Parse(params (EngineOption Option, string Text)[] values) =>
        values.Aggregate(EngineSettings.Default, (s, v) => v.Option.Apply(s, v.Text));

    [Fact]
    public void Every_option_parses_into_its_field_and_shows_back_as_written()
    {
        var s = Parse((EngineOptionTable.GpuLayers, "12"), (EngineOptionTable.MainGpu, "1"), (EngineOptionTable.SplitMode, "row"),
            (EngineOptionTable.TensorSplit, "3/1"), (EngineOptionTable.NoMmap, "true"), (EngineOptionTable.Mlock, ""),
            (EngineOptionTable.FlashAttn, "off"), (EngineOptionTable.CacheTypeK, "Q8_0"), (EngineOptionTable.CacheTypeV, "bf16"),
            (EngineOptionTable.RopeFreqBase, "5000"), (EngineOptionTable.RopeFreqScale, "0.25"));
        Assert.Equal(12, s.GpuLayers);
        Assert.Equal(1, s.MainGpu);
        Assert.Equal(GpuSplitMode.Row, s.SplitMode);
        Assert.Equal([3f, 1f], s.TensorSplit);
        Assert.False(s.UseMmap);
        Assert.True(s.UseMlock);
        Assert.Equal(FlashAttention.Off, s.FlashAttention);
        Assert.Equal(GgmlType.Q8_0, s.CacheTypeK);
        Assert.Equal(GgmlType.BF16, s.CacheTypeV);
        Assert.Equal(5000f, s.RopeFreqBase);
        Assert.Equal(0.25f, s.RopeFreqScale);
        foreach (var option in EngineOptionTable.All)
            Assert.Equal(s, option.Apply(s, option.Show(s)));
        Assert.Equal(EngineSettings.Default, Parse((EngineOptionTable.GpuLayers, "auto"), (EngineOptionTable.FlashAttn, "auto")));
        Assert.Equal(EngineOptionTable.AllGpuLayers, Parse((EngineOptionTable.GpuLayers, "all")).GpuLayers);
        Assert.Equal("", EngineSettings.Default.LogitsKey());
        Assert.Equal("", (EngineSettings.Default with { UseMmap = false, UseMlock = true }).LogitsKey());
        Assert.Equal("rope_freq_base=5000", (EngineSettings.Default with { RopeFreqBase = 5000 }).LogitsKey());
    }

    [Theory]
    [InlineData("gpu_layers", "-3")]
    [InlineData("gpu_layers", "many")]
    [InlineData("main_gpu", "-1")]
    [InlineData("split_mode", "columns")]
    [InlineData("split_mode", "1")]
    [InlineData("tensor_split", "3,x")]
    [InlineData("tensor_split", "0,0")]
    [InlineData("no_mmap", "maybe")]
    [InlineData("flash_attn", "fast")]
    [InlineData("cache_type_k", "q4_k")]
    [InlineData("cache_type_v", "f64")]
    [InlineData("rope_freq_base", "-1")]
    [InlineData("rope_freq_scale", "NaN")]
    public void A_bad_value_is_bad_input_naming_the_option(string key, string text)
    {
        var option = EngineOptionTable.All.Single(o => o.Key == key);
        var e = Assert.Throws<GgufOptimizeException>(() => option.Apply(EngineSettings.Default, text));
        Assert.Equal(FailureKind.BadInput, e.Kind);
        Assert.StartsWith($"{option.Name} '{text}'", e.Message);
        // The plan file names its key too.
        var p = Assert.Throws<GgufOptimizeException>(() => PlanFile.Apply(new IterationPlan(), PlanFile.PlanValue.Scalar(key, text)));
        Assert.Contains($"plan key '{key}'", p.Message);
    }

    [Fact]
    public void Plan_keys_set_the_plan_engine_settings()
    {
        var plan = PlanFile.Apply(new IterationPlan(), PlanFile.PlanValue.Scalar("gpu_layers", "all"));
        plan = PlanFile.Apply(plan, PlanFile.PlanValue.Scalar("rope_freq_base", "20000"));
        plan = PlanFile.Apply(plan, new PlanFile.PlanValue("tensor_split", ["1", "2"], true, null));
        plan = PlanFile.Apply(plan, PlanFile.PlanValue.Scalar("no_mmap", "true"));
        Assert.Equal(EngineOptionTable.AllGpuLayers, plan.Engine.GpuLayers);
        Assert.Equal(20000f, plan.Engine.RopeFreqBase);
        Assert.Equal([1f, 2f], plan.Engine.TensorSplit);
        Assert.False(plan.Engine.UseMmap);
        Assert.True(PlanFile.IsFlag("no_mmap"));
        Assert.True(PlanFile.IsFlag("mlock"));
    }

    /// <summary>The structs handed to llama_model_load_from_file and llama_init_from_model, built by the code the loader uses.</summary>
    [Fact]
    public void The_settings_are_written_into_the_native_parameter_structs()
    {
        var s = EngineSettings.Default with
        {
            GpuLayers = 7, MainGpu = 2, SplitMode = GpuSplitMode.None, TensorSplit = [1, 3], UseMmap = false, UseMlock = true,
            FlashAttention = FlashAttention.On, CacheTypeK = GgmlType.Q8_0, CacheTypeV = GgmlType.Q4_0, RopeFreqBase = 1234.5f, RopeFreqScale = 0.5f,
        };
        var m = EngineParams.Model(s);
        Assert.Equal(7, m.n_gpu_layers);
        Assert.Equal(2, m.main_gpu);
        Assert.Equal(GPUSplitMode.None, m.split_mode);
        Assert.Equal(LLamaLoadMode.MemoryLock, m.load_mode);
        Assert.False(m.vocab_only);
        Assert.Equal(LLamaLoadMode.MemoryMapAndLock, EngineParams.Model(s with { UseMmap = true }).load_mode);
        Assert.Equal(LLamaLoadMode.None, EngineParams.Model(s with { UseMlock = false }).load_mode);
        Assert.Equal(LLamaLoadMode.MemoryMap, EngineParams.Model(EngineSettings.Default).load_mode);
        Assert.True(EngineParams.Model(s, vocabOnly: true).vocab_only);
        // llama.cpp's own defaults are what an untouched option gives.
        var d = EngineParams.Model(EngineSettings.Default);
        var native = LLamaModelParams.Default();
        Assert.Equal((native.n_gpu_layers, native.main_gpu, native.split_mode, native.load_mode), (d.n_gpu_layers, d.main_gpu, d.split_mode, d.load_mode));

        NativeRuntime.Initialize();
        float[] split = EngineParams.TensorSplit(s)!;
        Assert.Equal((int)NativeApi.llama_max_devices(), split.Length);
        Assert.Equal([1f, 3f], split[..2]);
        Assert.All(split[2..], v => Assert.Equal(0f, v));
        Assert.Null(EngineParams.TensorSplit(EngineSettings.Default));

        var c = LlamaEvaluator.ContextParams(new EvaluatorOptions { ContextSize = 64 }, s, 1, 32000);
        Assert.Equal(LLamaFlashAttentionType.LLAMA_FLASH_ATTENTION_TYPE_ENABLED, c.llama_flash_attn_type);
        Assert.Equal(GGMLType.GGML_TYPE_Q8_0, c.type_k);
        Assert.Equal(GGMLType.GGML_TYPE_Q4_0, c.type_v);
        Assert.Equal(1234.5f, c.rope_freq_base);
        Assert.Equal(0.5f, c.rope_freq_scale);
        var dc = LlamaEvaluator.ContextParams(new EvaluatorOptions { ContextSize = 64 }, EngineSettings.Default, 1, 32000);
        var nativeContext = LLamaContextParams.Default();
        Assert.Equal((nativeContext.llama_flash_attn_type, nativeContext.type_k, nativeContext.type_v, nativeContext.rope_freq_base, nativeContext.rope_freq_scale),
            (dc.llama_flash_attn_type, dc.type_k, dc.type_v, dc.rope_freq_base, dc.rope_freq_scale));
    }

    /// <summary>
    /// llama.h has no getter for a context's RoPE, cache types or attention kernel, so they are read from the report
    /// llama.cpp logs while it builds the model and context (the values it actually uses).
    /// </summary>
    [Fact]
    public void Llama_cpp_reports_the_settings_it_was_given()
    {
        var s = EngineSettings.Default with
        {
            UseMmap = false, FlashAttention = FlashAttention.On, CacheTypeK = GgmlType.Q8_0, CacheTypeV = GgmlType.F32,
            RopeFreqBase = 5000, RopeFreqScale = 0.5f,
        };
        string custom = BuildLog(s), defaults = BuildLog(EngineSettings.Default);

        Assert.Matches(@"freq_base\s+=\s+5000\.0", custom);
        Assert.Matches(@"freq_scale\s+=\s+0\.5\b", custom);
        Assert.Matches(@"flash_attn\s+=\s+enabled", custom);
        Assert.Matches(@"K \(q8_0\)", custom);
        Assert.Matches(@"V \(f32\)", custom);
        Assert.Matches(@"CPU model buffer size", custom);
        Assert.DoesNotContain("CPU_Mapped", custom);

        Assert.Matches(@"freq_base\s+=\s+10000\.0", defaults);
        Assert.Matches(@"freq_scale\s+=\s+1\b", defaults);
        Assert.Matches(@"K \(f16\)", defaults);
        Assert.Contains("CPU_Mapped model buffer size", defaults);
    }

    private static string BuildLog(EngineSettings settings)
    {
        var log = new System.Text.StringBuilder();
        // Made (and loaded once, memory-mapped) on first use: outside the listener, or its log would be counted here.
        string path = WorkflowAssets.Model;
        using (NativeRuntime.ListenOnThisThread((_, message) => log.Append(message)))
        {
            using var model = LlamaModel.Load(path, settings);
            using var evaluator = new LlamaEvaluator(model, new EvaluatorOptions { ContextSize = 64, Threads = 1 });
            evaluator.DecodeOnly([1, 2, 3]);
        }
        return log.ToString();
    }
}
