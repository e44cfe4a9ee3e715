using GgufOptimize.Common;
using GgufOptimize.Gguf;
using GgufOptimize.Synthetic;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Reliability;

/// <summary>
/// A model whose header llama.cpp would crash on (SIGFPE on a zero dimension, abort on an absurd block_count) is
/// refused by our own reading of it first, with exit 2 and one line naming the file; valid models still pass.
/// </summary>
public class ModelValidationTests
{
    /// <summary>The real model with one change made through our writer (tensor data copied).</summary>
    internal static string Altered(TempDir dir, string name, Action<GgufWriter> change)
    {
        var writer = GgufWriter.CopyOf(GgufFile.Read(SharedAssets.AidreamsModel));
        change(writer);
        string path = dir.File(name);
        writer.Write(path);
        return path;
    }

    /// <summary>token_embd.weight with 0 rows: llama.cpp's gguf parser divides by ne[1] (SIGFPE).</summary>
    internal static string ZeroDimension(TempDir dir) => Altered(dir, "zero-dim.gguf", w =>
    {
        w.RemoveTensor("token_embd.weight");
        w.AddTensor("token_embd.weight", GgmlType.F32, [64, 0], ReadOnlyMemory<byte>.Empty);
    });

    internal static string AbsurdBlockCount(TempDir dir) =>
        Altered(dir, "blocks.gguf", w => w.Metadata.Set("llama.block_count", GgufValue.UInt32(1000)));

    private static void AssertRefused(CliProcess.Result run, string path, string what)
    {
        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}: {run.Stderr}");
        string line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(Path.GetFileName(path), line);
        Assert.Contains(what, line);
        Assert.DoesNotContain("   at ", run.Stderr);
    }

    [Slow]
    [SkippableFact]
    public void A_zero_dimension_is_refused_by_logits_imatrix_quantize_and_inspect_before_llama_cpp_divides_by_it()
    {
        using var dir = new TempDir();
        string model = ZeroDimension(dir);
        string data = dir.File("data.txt");
        File.WriteAllText(data, File.ReadAllText(SharedAssets.AidreamsText)[..4000]);
        const string what = "dimension 1 of size 0";
        AssertRefused(CliProcess.Run("logits", "-m", model, "-d", data, "-o", dir.File("b.h5"), "-q"), model, what);
        AssertRefused(CliProcess.Run("imatrix", "-m", model, "-d", data, "-o", dir.File("i.gguf"), "-c", "128", "-q"), model, what);
        AssertRefused(CliProcess.Run("quantize", "-m", model, "--types", "Q4_K_M", "-o", dir.File("q"), "-q"), model, what);
        AssertRefused(CliProcess.Run("inspect", model), model, what);
        Assert.False(File.Exists(dir.File("b.h5")));
    }

    [Slow]
    [SkippableFact]
    public void A_block_count_far_above_the_layers_present_is_refused_instead_of_aborting_llama_cpp()
    {
        using var dir = new TempDir();
        string model = AbsurdBlockCount(dir);
        string data = dir.File("data.txt");
        File.WriteAllText(data, File.ReadAllText(SharedAssets.AidreamsText)[..4000]);
        AssertRefused(CliProcess.Run("logits", "-m", model, "-d", data, "-o", dir.File("b.h5"), "-q"), model, "llama.block_count is 1000");
        AssertRefused(CliProcess.Run("kld", "--baseline-model", SharedAssets.AidreamsModel, "--target-model", model, "-d", data, "-o", dir.File("k.h5"), "-q"), model, "llama.block_count is 1000");
    }

    [SkippableFact]
    public void Shapes_against_hyper_parameters_overlaps_and_head_counts_are_named()
    {
        using var dir = new TempDir();
        Problem(Altered(dir, "embd.gguf", w => w.Metadata.Set("llama.embedding_length", GgufValue.UInt32(65))), "token_embd.weight");
        Problem(Altered(dir, "heads.gguf", w => w.Metadata.Set("llama.attention.head_count", GgufValue.UInt32(0))), "llama.attention.head_count is 0");
        Problem(Altered(dir, "kv.gguf", w => w.Metadata.Set("llama.attention.head_count_kv", GgufValue.UInt32(3))), "not a multiple");
        Problem(Altered(dir, "ff.gguf", w => w.Metadata.Set("llama.feed_forward_length", GgufValue.UInt32(171))), "ffn_down.weight");
        Problem(Altered(dir, "vocab.gguf", w => w.Metadata.Set(GgufKeys.Tokens, GgufValue.Array(Enumerable.Range(0, 511).Select(i => "t" + i)))), "511 tokens");

        var file = GgufFile.Read(SharedAssets.AidreamsModel);
        var a = file.Tensors[0];
        var moved = file.Tensors.Select(t => t == file.Tensors[1] ? t with { Offset = a.Offset } : t).ToList();
        Assert.Contains(GgufModelValidation.FileProblems(moved, file.FileLength - file.DataOffset), p => p.Contains("overlap"));
        var outside = file.Tensors.Select(t => t == a ? t with { Offset = file.FileLength } : t).ToList();
        Assert.Contains(GgufModelValidation.FileProblems(outside, file.FileLength - file.DataOffset), p => p.Contains("outside the data section"));
    }

    private static void Problem(string path, string expected)
    {
        var e = Assert.Throws<GgufOptimizeException>(() => GgufModelValidation.ReadChecked(path));
        Assert.Equal(FailureKind.BadInput, e.Kind);
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }

    [SkippableFact]
    public void Every_real_synthetic_and_quantized_model_here_passes()
    {
        string root = SharedAssets.RequireRoot();
        foreach (string model in Directory.GetFiles(Path.Combine(root, "models"), "*.gguf"))
            Assert.True(GgufModelValidation.Problems(GgufFile.Read(model)).Count == 0, $"{model}: {string.Join("; ", GgufModelValidation.Problems(GgufFile.Read(model)))}");

        using var dir = new TempDir();
        foreach (var options in new[]
        {
            new SyntheticModelOptions { VocabSize = 512, EmbeddingLength = 64, LayerCount = 1, HeadCount = 4 },
            new SyntheticModelOptions { VocabSize = 512, EmbeddingLength = 128, LayerCount = 3, HeadCount = 8, HeadCountKv = 2, FeedForwardLength = 320 },
            new SyntheticModelOptions { VocabSize = 512, EmbeddingLength = 256, LayerCount = 2, HeadCount = 4, WeightType = GgmlType.F16 },
        })
        {
            string path = dir.File($"syn-{options.EmbeddingLength}.gguf");
            SyntheticModel.Write(path, options);
            var problems = GgufModelValidation.Problems(GgufFile.Read(path));
            Assert.True(problems.Count == 0, string.Join("; ", problems));
        }

        string quantized = dir.File("q");
        var run = CliProcess.Run("quantize", "-m", SharedAssets.AidreamsModel, "--types", "Q4_K_M", "-o", quantized, "-t", "1", "-q");
        Assert.True(run.ExitCode == 0, run.Stderr);
        foreach (string q in Directory.GetFiles(quantized, "*.gguf"))
            Assert.Empty(GgufModelValidation.Problems(GgufFile.Read(q)));
    }
}
