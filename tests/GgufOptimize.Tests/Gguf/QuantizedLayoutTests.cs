using GgufOptimize.Engine;
using GgufOptimize.Gguf;
using GgufOptimize.Synthetic;
using GgufOptimize.Tests.Support;
using LLama.Native;

namespace GgufOptimize.Tests.Gguf;

/// <summary>
/// llama.cpp writes tensor data back to back, each padded to the alignment. If our block sizes were wrong for a
/// type, the sizes we compute would not tile the data section llama.cpp wrote.
/// </summary>
public class QuantizedLayoutTests
{
    [Theory]
    [InlineData(15, "Q4_K", "Q6_K")]
    [InlineData(7, "Q8_0", null)]
    [InlineData(10, "Q2_K", "Q3_K")]
    [InlineData(9, "Q5_1", null)]
    [InlineData(2, "Q4_0", null)]
    [InlineData(30, "IQ4_XS", null)]
    [InlineData(37, "TQ2_0", null)]
    public void Our_sizes_tile_the_data_llama_cpp_wrote(int ftype, string expectedType, string? alsoType)
    {
        using var dir = new TempDir();
        string source = dir.File("f32.gguf"), target = dir.File("q.gguf");
        SyntheticModel.Write(source, new SyntheticModelOptions { VocabSize = 512, EmbeddingLength = 256, FeedForwardLength = 512, LayerCount = 1, HeadCount = 4 });
        NativeRuntime.Initialize();
        var p = LLamaModelQuantizeParams.Default();
        p.ftype = (LLamaFtype)ftype; // llama_ftype ids, see LlamaFileTypes
        p.nthread = 1;
        Assert.Equal(0u, NativeApi.llama_model_quantize(source, target, ref p));

        var file = GgufFile.Read(target);
        var types = file.Tensors.Select(t => GgmlTypes.Name(t.Type)).ToHashSet();
        Assert.Contains(expectedType, types);
        if (alsoType is not null) Assert.Contains(alsoType, types);
        var ordered = file.Tensors.OrderBy(t => t.Offset).ToList();
        for (int i = 1; i < ordered.Count; i++)
            Assert.Equal(GgufFormat.Align(ordered[i - 1].Offset + ordered[i - 1].ByteSize, file.Alignment), ordered[i].Offset);
        var last = ordered[^1];
        Assert.Equal(file.DataOffset + GgufFormat.Align(last.Offset + last.ByteSize, file.Alignment), file.FileLength);

        var summary = ModelInspector.Summarize(file);
        Assert.Equal(LlamaFileTypes.Name(ftype), summary.FileTypeName);
        Assert.Equal(file.ParameterCount, summary.ParameterCount);
        Assert.InRange(summary.BitsPerWeight, 1.5, 9.0);
        using var model = LlamaModel.Load(target); // and llama.cpp agrees the file is whole
        Assert.Equal(512, model.VocabSize);
    }
}
