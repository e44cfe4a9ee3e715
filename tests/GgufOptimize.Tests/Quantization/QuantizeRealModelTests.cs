using GgufOptimize.Common;
using GgufOptimize.Gguf;
using GgufOptimize.Imatrix;
using GgufOptimize.Quantization;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Quantization;

public class QuantizeRealModelTests
{
    private static QuantizeOptions Options(TempDir dir, string types) => new()
    {
        ModelPath = SharedAssets.AidreamsModel,
        OutputDirectory = dir.Path,
        Types = QuantizationTypes.ParseList(types),
        Threads = 1,
    };

    [SkippableFact]
    public void Every_output_has_the_planned_tensor_types_loads_and_predicts_text()
    {
        using var dir = new TempDir();
        var options = Options(dir, "Q8_0,Q4_0,Q4_K_M,Q6_K,IQ4_NL,Q3_K_S,TQ2_0,F16,BF16,COPY");
        var plans = ModelQuantizer.Run(options with { DryRun = true }, NullProgress.Instance);
        Assert.All(plans, p => Assert.Equal(QuantizeStatus.Planned, p.Status));
        Assert.Empty(Directory.GetFiles(dir.Path));

        var written = ModelQuantizer.Run(options, NullProgress.Instance);
        string text = AidreamsText.Evaluation(20);
        for (int i = 0; i < plans.Count; i++)
        {
            var plan = plans[i].Plan;
            Assert.Equal(QuantizeStatus.Written, written[i].Status);
            Assert.Equal(plan.OutputPath, written[i].OutputPath);
            var file = GgufFile.Read(plan.OutputPath);
            Assert.Equal(plan.Tensors.Count, file.Tensors.Count);
            foreach (var t in plan.Tensors)
                Assert.Equal(t.TargetType, GgmlTypes.Name(file.Tensor(t.Name).Type), StringComparer.OrdinalIgnoreCase);
            Assert.Equal(plan.TargetBytes, file.TensorDataBytes);
            // F32 scores ~1.84 on this text; uniform guessing would be ln(512) = 6.24.
            double nll = AidreamsText.MeanNll(plan.OutputPath, text, maxChunks: 4);
            Assert.InRange(nll, 0.5, plan.Type.Name is "TQ2_0" or "Q3_K_S" ? 4.5 : 3.0);
        }
        Assert.Equal(Path.Combine(dir.Path, "aidreams260K-Q4_K_M.gguf"), plans[2].OutputPath);
    }

    [SkippableFact]
    public void Q8_0_and_Q4_0_keep_ffn_down_in_F16_where_llama_cpp_would_fail_and_strict_refuses()
    {
        using var dir = new TempDir();
        var plans = ModelQuantizer.Run(Options(dir, "Q8_0,Q4_0,Q4_K_M") with { DryRun = true }, NullProgress.Instance);
        foreach (var plan in plans.Take(2).Select(p => p.Plan))
        {
            var own = plan.OwnSubstitutions.ToList();
            Assert.Equal(4, own.Count);
            Assert.All(own, s => Assert.Matches(@"^blk\.\d\.ffn_down\.weight$", s.Tensor));
            Assert.All(own, s => Assert.Equal("F16", s.UsedType));
            Assert.All(own, s => Assert.Equal(172, s.RowLength));
            Assert.All(own, s => Assert.Contains("no fallback", s.Reason));
            Assert.All(plan.Tensors.Where(t => t.Name.Contains("ffn_down")), t => Assert.Equal("F16", t.TargetType));
            Assert.All(plan.Tensors.Where(t => t.Name.Contains("attn_q")), t => Assert.Equal(plan.Type.Name, t.TargetType));
        }
        // K-quants fall back inside llama.cpp: reported, nothing of ours.
        var kquant = plans[2].Plan;
        Assert.Empty(kquant.OwnSubstitutions);
        Assert.Contains(kquant.Substitutions, s => s.ByLlamaCpp && s.Tensor == "blk.0.attn_q.weight" && s.WantedType == "Q4_K" && s.UsedType == "Q5_0");

        var e = Assert.Throws<GgufOptimizeException>(() => ModelQuantizer.Run(Options(dir, "Q8_0") with { DryRun = true, Strict = true }, NullProgress.Instance));
        Assert.Equal(FailureKind.BadInput, e.Kind);
        Assert.Contains("ffn_down", e.Message);
    }

    [SkippableFact]
    public void An_imatrix_changes_Q4_0_weights_and_is_recorded_like_llama_quantize_does()
    {
        using var dir = new TempDir();
        string imatrixPath = dir.File("calib.gguf");
        ImatrixBuilder.Run(new ImatrixOptions
        {
            ModelPath = SharedAssets.AidreamsModel, DatasetPath = AidreamsText.WriteCalibration(dir, 40),
            OutputPath = imatrixPath, ContextSize = 128, Threads = 1,
        }, NullProgress.Instance);
        var plain = ModelQuantizer.Run(Options(dir, "Q4_0"), NullProgress.Instance).Single();
        var weighted = ModelQuantizer.Run(Options(dir, "Q4_0") with { ImatrixPath = imatrixPath }, NullProgress.Instance).Single();
        Assert.Equal(Path.Combine(dir.Path, "aidreams260K-Q4_0-imat-calib.gguf"), weighted.OutputPath);

        var a = GgufFile.Read(plain.OutputPath);
        var b = GgufFile.Read(weighted.OutputPath);
        int differing = 0;
        foreach (var t in a.Tensors.Where(t => t.Type == GgmlType.Q4_0))
            if (!a.ReadTensorBytes(t).AsSpan().SequenceEqual(b.ReadTensorBytes(b.Tensor(t.Name)))) differing++;
        Assert.True(differing >= 20, $"only {differing} Q4_0 tensors changed");
        // Tensors llama.cpp does not quantize stay byte-identical.
        Assert.Equal(a.ReadTensorBytes(a.Tensor("blk.0.attn_norm.weight")), b.ReadTensorBytes(b.Tensor("blk.0.attn_norm.weight")));

        var imatrix = ImatrixFile.Load(imatrixPath);
        // Recorded relative to the quantized model's folder (the same folder here), as llama-quantize records what it was given.
        Assert.Equal(Path.GetFileName(imatrixPath), b.Metadata.GetString("quantize.imatrix.file"));
        Assert.Equal(imatrix.Datasets[0], b.Metadata.GetString("quantize.imatrix.dataset"));
        Assert.Equal(imatrix.Count, b.Metadata.GetInteger("quantize.imatrix.entries_count"));
        Assert.Equal(imatrix.ChunkCount, b.Metadata.GetInteger("quantize.imatrix.chunks_count"));
        Assert.Null(a.Metadata.GetString("quantize.imatrix.file"));
    }

    [SkippableFact]
    public void An_existing_output_is_skipped_unless_overwrite()
    {
        using var dir = new TempDir();
        var first = ModelQuantizer.Run(Options(dir, "Q8_0"), NullProgress.Instance).Single();
        File.SetLastWriteTimeUtc(first.OutputPath, new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var again = ModelQuantizer.Run(Options(dir, "Q8_0,Q6_K"), NullProgress.Instance);
        Assert.Equal(QuantizeStatus.Skipped, again[0].Status);
        Assert.Equal(QuantizeStatus.Written, again[1].Status);
        Assert.Equal(2001, File.GetLastWriteTimeUtc(first.OutputPath).Year);
        var forced = ModelQuantizer.Run(Options(dir, "Q8_0") with { Overwrite = true }, NullProgress.Instance).Single();
        Assert.Equal(QuantizeStatus.Written, forced.Status);
        Assert.NotEqual(2001, File.GetLastWriteTimeUtc(first.OutputPath).Year);
    }

    [SkippableFact]
    public void A_quantization_that_fails_while_writing_leaves_no_file_under_the_final_name()
    {
        using var dir = new TempDir();
        string final = Path.Combine(dir.Path, "aidreams260K-Q4_0.gguf");
        Directory.CreateDirectory(final + ".partial"); // llama.cpp cannot open its output
        var e = Assert.Throws<GgufOptimizeException>(() => ModelQuantizer.Run(Options(dir, "Q4_0"), NullProgress.Instance));
        Assert.Equal(FailureKind.Runtime, e.Kind);
        Assert.False(File.Exists(final));
    }

    [SkippableFact]
    public void Output_and_embedding_types_that_do_not_fit_the_rows_are_replaced_by_the_nearest_that_does()
    {
        using var dir = new TempDir();
        var plan = ModelQuantizer.Run(Options(dir, "Q8_0") with { DryRun = true, OutputTensorType = "q4_K", TokenEmbeddingType = "Q6_K" }, NullProgress.Instance).Single().Plan;
        Assert.Equal("Q4_0", plan.Tensors.Single(t => t.Name == "output.weight").TargetType);
        Assert.Equal("Q8_0", plan.Tensors.Single(t => t.Name == "token_embd.weight").TargetType);
        Assert.Contains(plan.OwnSubstitutions, s => s.Tensor == "output.weight" && s.WantedType == "Q4_K");

        var fits = ModelQuantizer.Run(Options(dir, "Q4_K_M") with { DryRun = true, OutputTensorType = "f16", TensorTypes = [TensorTypeRule.Parse("attn_v=q8_0")] }, NullProgress.Instance).Single().Plan;
        Assert.Equal("F16", fits.Tensors.Single(t => t.Name == "output.weight").TargetType);
        Assert.All(fits.Tensors.Where(t => t.Name.EndsWith("attn_v.weight")), t => Assert.Equal("Q8_0", t.TargetType));
    }
}
