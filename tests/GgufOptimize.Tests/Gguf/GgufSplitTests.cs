using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Gguf;
using GgufOptimize.Quantization;
using GgufOptimize.Tests.Support;
using GgufOptimize.Tests.Workflow;

namespace GgufOptimize.Tests.Gguf;

/// <summary>
/// Split GGUF models in llama.cpp's layout: written by our writer, read back as one model, loaded by llama.cpp from
/// any shard with logits identical to the unsplit file; quantize's split output; missing and foreign shards refused.
/// </summary>
[Collection("engine-workflow")]
public class GgufSplitTests
{
    private static IReadOnlyList<string> Split(TempDir dir, string model, string name, int maxTensors) =>
        GgufSplits.Write(GgufFile.Read(model), dir.File(name), maxBytes: 0, maxTensors);

    [Fact]
    public void Shard_names_follow_llama_cpp()
    {
        Assert.Equal("/m/x-00001-of-00004.gguf", GgufSplits.ShardPath("/m/x", 0, 4));
        Assert.Equal(("/m/x", 2, 4), GgufSplits.ParseName("/m/x-00003-of-00004.gguf"));
        Assert.Equal(("/m/x", 0, 1), GgufSplits.ParseName("/m/x-00001-of-00001.gguf"));
        Assert.Null(GgufSplits.ParseName("/m/x-00005-of-00004.gguf"));
        Assert.Null(GgufSplits.ParseName("/m/x.gguf"));
        Assert.Equal("/m/x-00001-of-00004.gguf", GgufSplits.FirstShard("/m/x-00003-of-00004.gguf"));
        Assert.Equal(2_000_000_000L, GgufSplits.ParseSize("2G", "--split-max-size"));
        Assert.Equal(1_500_000L, GgufSplits.ParseSize("1.5M", "--split-max-size"));
        Assert.Throws<GgufOptimizeException>(() => GgufSplits.ParseSize("2X", "--split-max-size"));
    }

    [Theory]
    [InlineData("/m/x-00003-of-00004.gguf")]
    [InlineData("x-00001-of-00001.gguf")]
    [InlineData("a-b-00002-of-00002.gguf")]
    [InlineData("/m/model-00001-of-00002-00001-of-00003.gguf")]
    [InlineData("-00001-of-00002.gguf")]
    [InlineData("x-0001-of-00002.gguf")]
    [InlineData("x-000001-of-00002.gguf")]
    [InlineData("x-00001-of-0002.gguf")]
    [InlineData("x-00001_of-00002.gguf")]
    [InlineData("x-00001-of-00002.GGUF")]
    [InlineData("x-00001-of-00002.gguf.bak")]
    [InlineData("x-0000a-of-00002.gguf")]
    [InlineData("x-00000-of-00002.gguf")]
    [InlineData("x-00003-of-00002.gguf")]
    [InlineData("x-99999-of-99999.gguf")]
    [InlineData("x 00001-of-00002.gguf")]
    [InlineData("we\nird-00001-of-00002.gguf")]
    [InlineData("00001-of-00002.gguf")]
    [InlineData("")]
    public void Shard_names_are_read_as_the_regular_expression_read_them(string path)
    {
        // The hand-written reader replaced this expression (start-up cost): same answers on ASCII names.
        var m = System.Text.RegularExpressions.Regex.Match(path, @"^(?<prefix>.+)-(?<no>\d{5})-of-(?<count>\d{5})\.gguf$");
        (string, int, int)? expected = null;
        if (m.Success)
        {
            int no = int.Parse(m.Groups["no"].Value), count = int.Parse(m.Groups["count"].Value);
            if (no >= 1 && no <= count) expected = (m.Groups["prefix"].Value, no - 1, count);
        }
        Assert.Equal(expected, GgufSplits.ParseName(path));
    }

    [Fact]
    public void Any_shard_reads_as_the_whole_model_with_the_same_tensor_bytes()
    {
        using var dir = new TempDir();
        var whole = GgufFile.Read(WorkflowAssets.Model);
        var shards = Split(dir, WorkflowAssets.Model, "model.gguf", maxTensors: 8);
        Assert.True(shards.Count >= 3);
        Assert.Equal(dir.File($"model-00002-of-{shards.Count:D5}.gguf"), shards[1]);
        foreach (var shard in shards)
        {
            var union = GgufFile.Read(shard);
            Assert.Equal(shards[0], union.Path);
            Assert.Equal(shards.Count, union.Shards.Count);
            Assert.Equal(whole.Tensors.Select(t => (t.Name, t.Type)), union.Tensors.Select(t => (t.Name, t.Type)));
            Assert.Equal(whole.Architecture, union.Architecture);
        }
        var read = GgufFile.Read(shards[^1]);
        foreach (var t in whole.Tensors) Assert.Equal(whole.ReadTensorBytes(t), read.ReadTensorBytes(read.Tensor(t.Name)));
        // Every shard carries the split keys with llama.cpp's types; only the first the model's metadata.
        var second = GgufFile.Read(shards[1]).Shards[1].Metadata;
        Assert.Equal(GgufValueType.UInt16, second[GgufSplits.NoKey].Type);
        Assert.Equal(GgufValueType.Int32, second[GgufSplits.TensorsCountKey].Type);
        Assert.False(second.Contains(GgufKeys.Architecture));
        // The identity is the same whichever shard is named.
        Assert.Equal(ModelIdentity.Of(shards[0]), ModelIdentity.Of(shards[2]));
        Assert.Equal(shards.Sum(s => new FileInfo(s).Length), ModelIdentity.Of(shards[1]).Size);
    }

    [Fact]
    public void Llama_cpp_loads_the_shards_with_logits_identical_to_the_unsplit_model()
    {
        using var dir = new TempDir();
        var shards = Split(dir, WorkflowAssets.Model, "model.gguf", maxTensors: 7);
        int[] tokens = Enumerable.Range(1, 100).Select(i => (i * 37) % 500 + 1).ToArray();
        float[] Logits(string path)
        {
            using var model = LlamaModel.Load(path);
            using var evaluator = new LlamaEvaluator(model, new EvaluatorOptions { ContextSize = 128, Threads = 1 });
            var logits = new float[tokens.Length * model.VocabSize];
            evaluator.EvaluateChunk(tokens, logits);
            return logits;
        }
        var whole = Logits(WorkflowAssets.Model);
        Assert.Equal(whole, Logits(shards[1]));
        using var loaded = LlamaModel.Load(shards[2]);
        using var plain = LlamaModel.Load(WorkflowAssets.Model);
        Assert.Equal(plain.TokenizerFingerprint(), loaded.TokenizerFingerprint());
        Assert.Equal(plain.ParameterCount, loaded.ParameterCount);
    }

    [Fact]
    public void Missing_and_foreign_shards_are_bad_input_naming_the_shard()
    {
        using var dir = new TempDir();
        var three = Split(dir, WorkflowAssets.Model, "a.gguf", maxTensors: 8);
        Assert.Equal(3, three.Count);
        var four = Split(dir, WorkflowAssets.Model, "b.gguf", maxTensors: 6);
        Assert.True(four.Count > 3);

        string Refusal(string path)
        {
            var e = Assert.Throws<GgufOptimizeException>(() => GgufFile.Read(path));
            Assert.Equal(FailureKind.BadInput, e.Kind);
            var l = Assert.Throws<GgufOptimizeException>(() => LlamaModel.Load(path));
            Assert.Equal(e.Message, l.Message);
            return e.Message;
        }

        // Another split of the same model (split.count 4) standing in for shard 2 of 3.
        File.Copy(four[1], three[1], overwrite: true);
        Assert.Contains($"shard '{three[1]}' belongs to a model split in 4 parts, not 3", Refusal(three[0]));
        // Shard 3 renamed as shard 2.
        File.Copy(three[2], three[1], overwrite: true);
        Assert.Contains($"shard '{three[1]}' says it is split 3", Refusal(three[2]));
        // A shard gone.
        File.Delete(three[1]);
        string missing = Refusal(three[0]);
        Assert.Contains($"shard '{three[1]}' (split 2 of 3)", missing);
        Assert.Contains("is missing", missing);
        Assert.Contains($"shard '{three[1]}'", Assert.Throws<GgufOptimizeException>(() => ModelIdentity.Of(three[2])).Message);

        var cli = CliProcess.Run("inspect", three[2]);
        Assert.Equal(2, cli.ExitCode);
        Assert.Contains($"shard '{three[1]}' (split 2 of 3)", Assert.Single(cli.Stderr.Trim().Split('\n')));
    }

    [Fact]
    public void Inspect_shows_the_shards()
    {
        using var dir = new TempDir();
        var shards = Split(dir, WorkflowAssets.Model, "model.gguf", maxTensors: 8);
        var r = CliProcess.Run("inspect", shards[1]);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains($"split           {shards.Count} shards: model-00001-of-{shards.Count:D5}.gguf", r.Stdout);
        Assert.Contains(GgufFile.Read(WorkflowAssets.Model).Tensors.Count.ToString(), r.Stdout);
    }

    [Slow]
    [Fact]
    public void Quantize_writes_split_output_that_llama_cpp_loads_and_that_equals_the_unsplit_quantization()
    {
        using var dir = new TempDir();
        var type = QuantizationTypes.Parse("Q8_0");
        ModelQuantizer.Run(new QuantizeOptions { ModelPath = WorkflowAssets.Model, Types = [type], OutputDirectory = dir.File("whole"), Name = "m", Threads = 1 }, NullProgress.Instance);
        // The input itself split, and the output split by tensor count.
        var input = Split(dir, WorkflowAssets.Model, "in.gguf", maxTensors: 9);
        ModelQuantizer.Run(new QuantizeOptions { ModelPath = input[1], Types = [type], OutputDirectory = dir.File("split"), Name = "m", Threads = 1, SplitMaxTensors = 5 }, NullProgress.Instance);

        string whole = Assert.Single(Directory.GetFiles(dir.File("whole"), "*.gguf"));
        var parts = Directory.GetFiles(dir.File("split"), "*.gguf").Order().ToArray();
        Assert.True(parts.Length >= 4, string.Join(", ", parts.Select(Path.GetFileName)));
        Assert.All(parts, p => Assert.NotNull(GgufSplits.ParseName(p)));
        var a = GgufFile.Read(whole);
        var b = GgufFile.Read(parts[0]);
        Assert.Equal(a.Tensors.Select(t => t.Name), b.Tensors.Select(t => t.Name));
        foreach (var t in a.Tensors) Assert.Equal(a.ReadTensorBytes(t), b.ReadTensorBytes(b.Tensor(t.Name)));

        int[] tokens = Enumerable.Range(1, 64).ToArray();
        float[] Logits(string path)
        {
            using var model = LlamaModel.Load(path);
            using var evaluator = new LlamaEvaluator(model, new EvaluatorOptions { ContextSize = 64, Threads = 1 });
            var logits = new float[tokens.Length * model.VocabSize];
            evaluator.EvaluateChunk(tokens, logits);
            return logits;
        }
        Assert.Equal(Logits(whole), Logits(parts[^1]));

        // A rerun leaves the finished shards alone; --overwrite with another split replaces all of them.
        var stamps = parts.Select(File.GetLastWriteTimeUtc).ToArray();
        var again = ModelQuantizer.Run(new QuantizeOptions { ModelPath = input[0], Types = [type], OutputDirectory = dir.File("split"), Name = "m", Threads = 1, SplitMaxTensors = 5 }, NullProgress.Instance);
        Assert.Equal(QuantizeStatus.Skipped, Assert.Single(again).Status);
        Assert.Equal(stamps, parts.Select(File.GetLastWriteTimeUtc).ToArray());
        ModelQuantizer.Run(new QuantizeOptions { ModelPath = input[0], Types = [type], OutputDirectory = dir.File("split"), Name = "m", Threads = 1, SplitMaxTensors = 100, Overwrite = true }, NullProgress.Instance);
        var replaced = Directory.GetFiles(dir.File("split"), "*.gguf");
        Assert.EndsWith("m-Q8_0-00001-of-00001.gguf", Assert.Single(replaced));
        Assert.Equal(a.Tensors.Count, GgufFile.Read(replaced[0]).Tensors.Count);
    }
}
