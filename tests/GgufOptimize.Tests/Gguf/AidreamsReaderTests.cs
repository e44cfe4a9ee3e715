using GgufOptimize.Gguf;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Gguf;

/// <summary>Facts from ../shared/models/README.md checked against our reader.</summary>
public class AidreamsReaderTests
{
    [SkippableFact]
    public void Reads_the_documented_configuration()
    {
        var file = GgufFile.Read(SharedAssets.AidreamsModel);
        Assert.Equal(3, file.Version);
        Assert.Equal(32, file.Alignment);
        Assert.Equal(1_068_768, file.FileLength);
        var m = file.Metadata;
        Assert.Equal("llama", file.Architecture);
        Assert.Equal(64, m.GetInteger("llama.embedding_length"));
        Assert.Equal(172, m.GetInteger("llama.feed_forward_length"));
        Assert.Equal(4, m.GetInteger("llama.block_count"));
        Assert.Equal(4, m.GetInteger("llama.attention.head_count"));
        Assert.Equal(4, m.GetInteger("llama.attention.head_count_kv"));
        Assert.Equal(128, m.GetInteger("llama.context_length"));
        Assert.Equal(10000, m.GetNumber("llama.rope.freq_base"));
        Assert.Equal(1e-5, m.GetNumber("llama.attention.layer_norm_rms_epsilon")!.Value, 1e-9);
        Assert.Equal(0, m.GetInteger(GgufKeys.FileType));
        var tokens = m[GgufKeys.Tokens].AsStringArray();
        Assert.Equal(512, tokens.Length);
        Assert.Equal(["<unk>", "<s>", "</s>"], tokens[..3]);
        Assert.Equal("<0x00>", tokens[3]);
        Assert.Equal("<0xFF>", tokens[258]);
        Assert.All(file.Tensors, t => Assert.Equal(GgmlType.F32, t.Type));
        Assert.Equal(263_744, file.ParameterCount);
        Assert.Equal(263_744L * 4, file.TensorDataBytes);
        Assert.Equal(new long[] { 172, 64 }, file.Tensor("blk.0.ffn_down.weight").Dimensions);
        Assert.Equal(new long[] { 64, 512 }, file.Tensor("token_embd.weight").Dimensions);
    }

    [SkippableFact]
    public void Tied_classifier_is_a_copy_of_the_embedding()
    {
        var file = GgufFile.Read(SharedAssets.AidreamsModel);
        var embd = file.ReadTensorFloats(file.Tensor("token_embd.weight"));
        var output = file.ReadTensorFloats(file.Tensor("output.weight"));
        Assert.Equal(embd, output);
        Assert.Contains(embd, v => v != 0);
    }

    [SkippableFact]
    public void Unchanged_copy_is_byte_identical()
    {
        using var dir = new TempDir();
        var file = GgufFile.Read(SharedAssets.AidreamsModel);
        GgufWriter.CopyOf(file).Write(dir.File("copy.gguf"));
        Assert.Equal(File.ReadAllBytes(SharedAssets.AidreamsModel), File.ReadAllBytes(dir.File("copy.gguf")));
    }
}
