using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Logits;
using GgufOptimize.Storage;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Logits;

public class LogitsJobTests
{
    private static LogitsJobOptions Options(string model, string dataset, string output, int context = 64, int precision = 32) => new()
    {
        ModelPath = model, DatasetPath = dataset, OutputPath = output, ContextSize = context, Precision = precision,
    };

    [SkippableFact]
    public void Stored_logits_equal_a_direct_decode_bitwise_on_the_real_model()
    {
        using var tmp = new TempDir();
        string output = tmp.File("base.h5");
        var text = string.Join("\n\n", File.ReadAllText(SharedAssets.AidreamsText).Split("\n\n").Take(20));
        File.WriteAllText(tmp.File("data.txt"), text);
        var result = LogitsJob.Run(Options(SharedAssets.AidreamsModel, tmp.File("data.txt"), output, context: 128), NullProgress.Instance, default);
        Assert.True(result.TotalChunks >= 3);
        Assert.False(File.Exists(output + ".partial"));

        using var reader = BaselineLogitsReader.Open(output);
        using var model = LlamaModel.Load(SharedAssets.AidreamsModel);
        using var evaluator = new LlamaEvaluator(model, new EvaluatorOptions { ContextSize = 128 });
        for (int chunk = 0; chunk < reader.TotalChunks; chunk++)
        {
            var tokens = reader.ChunkTokens(chunk);
            Assert.Equal(model.Bos, tokens[0]);
            var direct = new float[tokens.Length * model.VocabSize];
            evaluator.EvaluateChunk(tokens, direct);
            Assert.True(reader.ChunkLogits(chunk).SequenceEqual(direct), $"chunk {chunk} differs from a direct decode");
        }
        // The stored tokens are exactly the dataset's tokens, in order, each once.
        var all = Enumerable.Range(0, reader.TotalChunks).SelectMany(c => reader.ChunkTokens(c).Skip(1)).ToArray();
        Assert.Equal(model.Tokenize(text), all);
    }

    [SkippableFact]
    public void Input_errors_surface_in_the_same_order_while_the_dataset_and_model_are_hashed_beside_the_load()
    {
        // The dataset is read and the model file hashed on another thread while llama.cpp loads the model: a bad model
        // is still named first, a missing dataset still refused with its own message, and nothing is left behind.
        using var tmp = new TempDir();
        string output = tmp.File("base.h5");
        var both = Assert.Throws<GgufOptimizeException>(() => LogitsJob.Run(Options(tmp.File("none.gguf"), tmp.File("none.txt"), output), NullProgress.Instance, default));
        Assert.Contains("model file", both.Message);
        Assert.Contains("none.gguf", both.Message);
        var dataset = Assert.Throws<GgufOptimizeException>(() => LogitsJob.Run(Options(SharedAssets.AidreamsModel, tmp.File("none.txt"), output), NullProgress.Instance, default));
        Assert.Equal(FailureKind.BadInput, dataset.Kind);
        Assert.Contains("dataset", dataset.Message);
        Assert.Contains("none.txt", dataset.Message);
        Assert.DoesNotContain(Directory.GetFiles(tmp.Path), f => Path.GetFileName(f).StartsWith("base.h5", StringComparison.Ordinal) && !f.EndsWith(".lock", StringComparison.Ordinal));
    }

    [SkippableFact]
    public void Half_precision_stores_the_rounded_float32_logits()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("data.txt"), File.ReadAllText(SharedAssets.AidreamsText)[..3000]);
        LogitsJob.Run(Options(SharedAssets.AidreamsModel, tmp.File("data.txt"), tmp.File("f32.h5")), NullProgress.Instance, default);
        LogitsJob.Run(Options(SharedAssets.AidreamsModel, tmp.File("data.txt"), tmp.File("f16.h5"), precision: 16), NullProgress.Instance, default);
        using var f32 = BaselineLogitsReader.Open(tmp.File("f32.h5"));
        using var f16 = BaselineLogitsReader.Open(tmp.File("f16.h5"));
        Assert.True(f16.IsHalf);
        for (int c = 0; c < f32.TotalChunks; c++)
        {
            var a = f32.ChunkLogits(c).ToArray();
            var b = f16.ChunkLogitsHalf(c).ToArray();
            Assert.Equal(a.Length, b.Length);
            for (int i = 0; i < a.Length; i++) Assert.Equal((Half)a[i], b[i]);
        }
    }

    [SkippableFact]
    public void A_second_run_continues_a_partial_range_and_refuses_other_inputs()
    {
        using var tmp = new TempDir();
        string data = tmp.File("data.txt"), output = tmp.File("base.h5");
        File.WriteAllText(data, File.ReadAllText(SharedAssets.AidreamsText)[..6000]);
        var first = LogitsJob.Run(Options(SharedAssets.AidreamsModel, data, output) with { ToChunk = 2 }, NullProgress.Instance, default);
        Assert.Equal(2, first.ChunksComputed);
        Assert.True(File.Exists(output));
        var second = LogitsJob.Run(Options(SharedAssets.AidreamsModel, data, output), NullProgress.Instance, default);
        Assert.Equal(2, second.ChunksAlreadyDone);
        Assert.Equal(second.TotalChunks - 2, second.ChunksComputed);
        var third = LogitsJob.Run(Options(SharedAssets.AidreamsModel, data, output), NullProgress.Instance, default);
        Assert.Equal(0, third.ChunksComputed);

        File.AppendAllText(data, " more text");
        var e = Assert.Throws<GgufOptimizeException>(() => LogitsJob.Run(Options(SharedAssets.AidreamsModel, data, output), NullProgress.Instance, default));
        Assert.Contains("dataset", e.Message);
        Assert.Contains("--overwrite", e.Message);
        var e2 = Assert.Throws<GgufOptimizeException>(() => LogitsJob.Run(Options(SharedAssets.AidreamsModel, data, output, context: 32) , NullProgress.Instance, default));
        Assert.Contains("--overwrite", e2.Message);
        var clobbered = LogitsJob.Run(Options(SharedAssets.AidreamsModel, data, output) with { Clobber = true }, NullProgress.Instance, default);
        Assert.Equal(clobbered.TotalChunks, clobbered.ChunksComputed);
    }

    [SkippableFact]
    public void One_short_chunk_is_handled()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("data.txt"), "I dream of vectors.");
        var r = LogitsJob.Run(Options(SharedAssets.AidreamsModel, tmp.File("data.txt"), tmp.File("o.h5"), context: 128), NullProgress.Instance, default);
        Assert.Equal(1, r.TotalChunks);
        using var reader = BaselineLogitsReader.Open(tmp.File("o.h5"));
        Assert.True(reader.ChunkTokens(0).Length < 20);
        Assert.True(reader.HasChunk(0));
    }
}
