using GgufOptimize.Common;
using GgufOptimize.Kld;
using GgufOptimize.Metrics;
using GgufOptimize.Storage;
using GgufOptimize.Storage.Formats.LlamaCpp;
using GgufOptimize.Tests.Support;
using GgufOptimize.Tests.Workflow;

namespace GgufOptimize.Tests.Reliability;

/// <summary>
/// Each kind of corrupted stored file the adversarial pass found (issue 17, part 3) is refused when it is opened, with
/// one line naming the file and what is wrong: never a .NET exception, never NaN or garbage reported as a result.
/// </summary>
[Collection(nameof(StoredInputsCollection))]
public class StoredFileValidationTests(StoredInputs f)
{
    private static GgufOptimizeException Refused(Action action, string path, string expected)
    {
        var e = Assert.Throws<GgufOptimizeException>(action);
        Assert.Equal(FailureKind.BadInput, e.Kind);
        Assert.Contains(Path.GetFileName(path), e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    /// <summary>kld of <paramref name="baseline"/> against the stored float16 logits (no llama.cpp involved).</summary>
    private KldJobResult Kld(string baseline, string? target = null, string? output = null, int skipFirst = 0) => KldJob.Run(new KldJobOptions
    {
        BaselineLogits = baseline, TargetLogits = target ?? f.Full16, OutputFile = output ?? f.NewFile(".h5"), Threads = 1, SkipFirst = skipFirst,
    }, NullProgress.Instance, default);

    private string Edited(string source, Action<H5Edit> change)
    {
        var edit = H5Edit.Load(source);
        change(edit);
        string path = f.NewFile(".h5");
        edit.Save(path);
        return path;
    }

    [SkippableTheory]
    [InlineData("n_ctx 0", "n_ctx is 0")]
    [InlineData("n_ctx 16", "shape")]
    [InlineData("n_ctx huge", "n_ctx is 1099511627776")]
    [InlineData("total_chunks +1", "shape")]
    [InlineData("total_chunks -1", "total_chunks is -1")]
    [InlineData("n_vocab 511", "shape")]
    [InlineData("precision 8", "precision is 8")]
    [InlineData("precision 16 over float32", "precision is 16")]
    [InlineData("chunk length past n_ctx", "chunk_lengths[0] is 1000")]
    [InlineData("chunk length negative", "chunk_lengths[1] is -5")]
    [InlineData("token out of vocabulary", "outside the vocabulary")]
    [InlineData("token negative", "id -7")]
    public void A_full_baseline_whose_attributes_disagree_with_its_data_is_refused(string change, string expected)
    {
        Skip.If(f.Skipped is not null, f.Skipped);
        string bad = Edited(f.Full32, e =>
        {
            switch (change)
            {
                case "n_ctx 0": e.Set("n_ctx", 0L); break;
                case "n_ctx 16": e.Set("n_ctx", 16L); break;
                case "n_ctx huge": e.Set("n_ctx", 1L << 40); break;
                case "total_chunks +1": e.Set("total_chunks", (long)e.Attribute("total_chunks") + 1); break;
                case "total_chunks -1": e.Set("total_chunks", -1L); break;
                case "n_vocab 511": e.Set("n_vocab", 511L); break;
                case "precision 8": e.Set("precision", 8L); break;
                case "precision 16 over float32": e.Set("precision", 16L); break;
                case "chunk length past n_ctx": e["chunk_lengths"].As<int>()[0] = 1000; break;
                case "chunk length negative": e["chunk_lengths"].As<int>()[1] = -5; break;
                case "token out of vocabulary": e["tokens"].As<int>()[StoredInputs.Context + 3] = 70000; break;
                case "token negative": e["tokens"].As<int>()[5] = -7; break;
            }
        });
        Refused(() => Kld(bad), bad, expected);
    }

    [SkippableFact]
    public void An_out_of_vocabulary_token_in_a_baseline_never_reaches_llama_cpp()
    {
        Skip.If(f.Skipped is not null, f.Skipped);
        foreach (string source in new[] { f.Full32, f.Compact })
        {
            string bad = Edited(source, e => e["tokens"].As<int>()[StoredInputs.Context + 1] = 512);
            var run = CliProcess.Run("kld", "--baseline-logits", bad, "--target-model", SharedAssets.AidreamsModel, "-o", f.NewFile(".h5"), "-t", "1", "-q");
            Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}: {run.Stderr}");
            string line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains(Path.GetFileName(bad), line);
            Assert.Contains("id 512, outside the vocabulary of 512", line);
        }
    }

    [SkippableFact]
    public void A_nan_in_the_baseline_is_named_as_the_baselines_not_reported_as_the_targets()
    {
        Skip.If(f.Skipped is not null, f.Skipped);
        string bad = Edited(f.Full32, e => e["logits"].As<float>()[(1 * StoredInputs.Context + 5) * 512 + 17] = float.NaN);
        Refused(() => Kld(bad), bad, "row 5 of chunk 1 holds NaN");
    }

    [SkippableTheory]
    [InlineData("entry_start past the entries", "compact index is corrupt")]
    [InlineData("top_count negative", "top_count of row 2 of chunk 0 is -1")]
    [InlineData("top id out of vocabulary", "outside the vocabulary")]
    [InlineData("nan logit", "NaN")]
    [InlineData("tail mass attribute 2", "tail_mass is 2")]
    [InlineData("total_chunks +1", "shape")]
    public void A_compact_baseline_with_a_corrupt_index_or_values_is_refused(string change, string expected)
    {
        Skip.If(f.Skipped is not null, f.Skipped);
        string bad = Edited(f.Compact, e =>
        {
            switch (change)
            {
                case "entry_start past the entries": e["entry_start"].As<long>()[1] = e["top_ids"].Shape[0] - 1; break;
                case "top_count negative": e["top_count"].As<int>()[2] = -1; break;
                case "top id out of vocabulary": e["top_ids"].As<int>()[7] = 9999; break;
                case "nan logit": e["top_logits"].As<float>()[3] = float.NaN; break;
                case "tail mass attribute 2": e.Set("tail_mass", 2.0); break;
                case "total_chunks +1": e.Set("total_chunks", (long)e.Attribute("total_chunks") + 1); break;
            }
        });
        Refused(() => Kld(bad), bad, expected);
    }

    [SkippableTheory]
    [InlineData("byte of the encoded data flipped", "chunk 1 is damaged (its bytes do not match their checksum)")]
    [InlineData("chunk_start past the data", "lies outside the encoded data")]
    [InlineData("chunk tau above the file's", "exceeds the file's recorded bound")]
    [InlineData("log_step attribute 5", "log step must be in (0, 1]")]
    [InlineData("max_total_variation attribute 2", "is impossible")]
    [InlineData("total_chunks +1", "shape")]
    [InlineData("token out of vocabulary", "outside the vocabulary")]
    public void A_compact2_baseline_whose_data_disagrees_with_its_index_or_checksum_is_refused(string change, string expected)
    {
        Skip.If(f.Skipped is not null, f.Skipped);
        string bad = Edited(f.Quantized, e =>
        {
            switch (change)
            {
                case "byte of the encoded data flipped":
                {
                    long start = e["chunk_start"].As<long>()[1];
                    e["encoded"].As<byte>()[(int)start + 9] ^= 0x10;
                    break;
                }
                case "chunk_start past the data": e["chunk_start"].As<long>()[1] = e["encoded"].Shape[0] - 3; break;
                case "chunk tau above the file's": e["chunk_total_variation"].As<double>()[0] = 0.5; break;
                case "log_step attribute 5": e.Set("log_step", 5.0); break;
                case "max_total_variation attribute 2": e.Set("max_total_variation", 2.0); break;
                case "total_chunks +1": e.Set("total_chunks", (long)e.Attribute("total_chunks") + 1); break;
                case "token out of vocabulary": e["tokens"].As<int>()[StoredInputs.Context + 3] = 70000; break;
            }
        });
        Refused(() => Kld(bad), bad, expected);
        var cli = CliProcess.Run("logits", "--info", bad);
        Assert.True(cli.ExitCode == 2, $"exit {cli.ExitCode}: {cli.Stderr}");
        Assert.Contains(expected, Assert.Single(cli.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }

    [SkippableTheory]
    [InlineData("token offsets backwards", "go backwards")]
    [InlineData("first offset not 0", "first token offset")]
    [InlineData("offsets past the data", "shape")]
    [InlineData("nonfinite_rows negative", "nonfinite_rows -1")]
    [InlineData("nan kld", "KLD NaN")]
    [InlineData("chunk number repeated", "repeated")]
    public void A_corrupt_comparison_is_refused_when_read_and_when_a_rerun_would_reuse_it(string change, string expected)
    {
        Skip.If(f.Skipped is not null, f.Skipped);
        string bad = Edited(f.Comparison, e =>
        {
            switch (change)
            {
                case "token offsets backwards": e["token_offsets"].As<long>()[2] = 1; break;
                case "first offset not 0": e["token_offsets"].As<long>()[0] = 4; break;
                case "offsets past the data": e["token_offsets"].As<long>()[^1] += 10; break;
                case "nonfinite_rows negative": e["nonfinite_rows"].As<int>()[0] = -1; break;
                case "nan kld": e["kld"].As<double>()[3] = double.NaN; break;
                case "chunk number repeated": e["compared_chunks"].As<int>()[1] = e["compared_chunks"].As<int>()[0]; break;
            }
        });
        Refused(() => KldOutputFile.Read(bad), bad, expected);
        // The same file as the output of a rerun: refused (it is not reused), never merged into a result.
        Refused(() => Kld(f.Full32, output: bad), bad, expected);
    }

    [SkippableFact]
    public void A_truncated_gzip_baseline_is_refused_or_compared_never_a_stack_trace()
    {
        Skip.If(f.Skipped is not null, f.Skipped);
        long length = new FileInfo(f.Gzip).Length;
        foreach (double fraction in new[] { 0.3, 0.6, 0.9, 0.99 })
        {
            string cut = f.Copy(f.Gzip, "cut");
            using (var s = new FileStream(cut, FileMode.Open)) s.SetLength((long)(length * fraction));
            try
            {
                var r = Kld(cut);
                Assert.True(double.IsFinite(r.Overall.Score));
            }
            catch (GgufOptimizeException e)
            {
                Assert.Equal(FailureKind.BadInput, e.Kind);
                Assert.Contains(Path.GetFileName(cut), e.Message);
            }
        }
    }

    [SkippableFact]
    public void A_llama_cpp_baseline_with_a_zeroed_tail_is_refused_not_compared()
    {
        Skip.If(f.Skipped is not null, f.Skipped);
        string torn = f.Copy(f.LlamaCpp, "torn");
        LlamaCppKldLayout layout;
        using (var reader = LlamaCppKldReader.Open(torn, null)) layout = reader.Layout;
        using (var s = new FileStream(torn, FileMode.Open))
        {
            s.Position = s.Length - layout.ChunkBytes;
            s.Write(new byte[layout.ChunkBytes]);
        }
        var e = Refused(() => KldJob.Run(new KldJobOptions
        {
            BaselineLogits = torn, TargetModel = SharedAssets.AidreamsModel, OutputFile = f.NewFile(".h5"), Threads = 1,
        }, NullProgress.Instance, default), torn, "all zeros");
        Assert.Contains($"chunk {layout.ChunkCount - 1}", e.Message);
    }

    [SkippableFact]
    public void The_baseline_model_against_its_own_llama_cpp_baseline_scores_0_not_nan()
    {
        Skip.If(f.Skipped is not null, f.Skipped);
        // Rounding to 16 bits makes some per-token KLD slightly negative; the median was negative and its cube root NaN.
        var r = KldJob.Run(new KldJobOptions
        {
            BaselineLogits = f.LlamaCpp, TargetModel = SharedAssets.AidreamsModel, OutputFile = f.NewFile(".h5"), Threads = 1,
        }, NullProgress.Instance, default);
        Assert.True(r.Overall.Median < 1e-6, $"median {r.Overall.Median}");
        Assert.True(double.IsFinite(r.Overall.Score), $"Score {r.Overall.Score}");
        Assert.True(r.Overall.Score < 1e-4, $"Score {r.Overall.Score}");
    }

    [SkippableFact]
    public void A_llama_cpp_row_whose_log_probabilities_exceed_0_is_refused()
    {
        Skip.If(f.Skipped is not null, f.Skipped);
        string bad = f.Copy(f.LlamaCpp, "above0");
        LlamaCppKldLayout layout;
        using (var reader = LlamaCppKldReader.Open(bad, null)) layout = reader.Layout;
        using (var s = new FileStream(bad, FileMode.Open))
        {
            s.Position = layout.RowOffset(2, layout.FirstPosition + 3) + 4; // the row's minimum, after its scale
            s.Write(BitConverter.GetBytes(5f));
        }
        Refused(() => KldJob.Run(new KldJobOptions
        {
            BaselineLogits = bad, TargetModel = SharedAssets.AidreamsModel, OutputFile = f.NewFile(".h5"), Threads = 1,
        }, NullProgress.Instance, default), bad, $"row {layout.FirstPosition + 3} of chunk 2");
    }

    [SkippableFact]
    public void Skip_first_at_or_past_the_context_is_refused_up_front_naming_the_option()
    {
        Skip.If(f.Skipped is not null, f.Skipped);
        string output = f.NewFile(".h5");
        var e = Assert.Throws<GgufOptimizeException>(() => Kld(f.Full32, output: output, skipFirst: StoredInputs.Context));
        Assert.Equal(FailureKind.BadInput, e.Kind);
        Assert.Contains("--skip-first 32", e.Message);
        Assert.False(File.Exists(output));
        Assert.True(double.IsFinite(Kld(f.Full32, skipFirst: StoredInputs.Context - 2).Overall.Score));
    }

    [Fact]
    public void No_best_iteration_is_picked_from_non_finite_scores()
    {
        var nan = new[] { ComparisonFixtures.Chunk(0, [float.NaN, float.NaN, float.NaN]) };
        var e = Assert.Throws<GgufOptimizeException>(() => StoppingRule.Best([nan, nan], new BootstrapOptions(200, 0.95, 1, 1)));
        Assert.Contains("finite Score", e.Message);
    }

    [Fact]
    public void A_statistic_that_is_not_finite_never_becomes_output()
    {
        var none = KldStatistics.Compute(Array.Empty<ChunkResult>());
        Assert.Equal(FailureKind.BadInput, Assert.Throws<GgufOptimizeException>(() => FiniteOutcome.Require(none, "out.h5")).Kind);
        var nan = KldStatistics.Compute([ComparisonFixtures.Chunk(0, [0.1f, float.NaN, 0.2f])]);
        Assert.Equal(FailureKind.Runtime, Assert.Throws<GgufOptimizeException>(() => FiniteOutcome.Require(nan, "out.h5")).Kind);
    }
}

[CollectionDefinition(nameof(StoredInputsCollection))]
public sealed class StoredInputsCollection : ICollectionFixture<StoredInputs>;
