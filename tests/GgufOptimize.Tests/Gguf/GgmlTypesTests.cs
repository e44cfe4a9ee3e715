using GgufOptimize.Gguf;

namespace GgufOptimize.Tests.Gguf;

public class GgmlTypesTests
{
    // Block and byte sizes from ggml's type_traits / ggml-common.h block structs (llama.cpp c0c7e147).
    [Theory]
    [InlineData(GgmlType.F32, 1, 4)]
    [InlineData(GgmlType.F16, 1, 2)]
    [InlineData(GgmlType.Q4_0, 32, 18)]
    [InlineData(GgmlType.Q4_1, 32, 20)]
    [InlineData(GgmlType.Q5_0, 32, 22)]
    [InlineData(GgmlType.Q5_1, 32, 24)]
    [InlineData(GgmlType.Q8_0, 32, 34)]
    [InlineData(GgmlType.Q8_1, 32, 36)]
    [InlineData(GgmlType.Q2_K, 256, 84)]
    [InlineData(GgmlType.Q3_K, 256, 110)]
    [InlineData(GgmlType.Q4_K, 256, 144)]
    [InlineData(GgmlType.Q5_K, 256, 176)]
    [InlineData(GgmlType.Q6_K, 256, 210)]
    [InlineData(GgmlType.Q8_K, 256, 292)]
    [InlineData(GgmlType.IQ2_XXS, 256, 66)]
    [InlineData(GgmlType.IQ2_XS, 256, 74)]
    [InlineData(GgmlType.IQ3_XXS, 256, 98)]
    [InlineData(GgmlType.IQ1_S, 256, 50)]
    [InlineData(GgmlType.IQ4_NL, 32, 18)]
    [InlineData(GgmlType.IQ3_S, 256, 110)]
    [InlineData(GgmlType.IQ2_S, 256, 82)]
    [InlineData(GgmlType.IQ4_XS, 256, 136)]
    [InlineData(GgmlType.I8, 1, 1)]
    [InlineData(GgmlType.I16, 1, 2)]
    [InlineData(GgmlType.I32, 1, 4)]
    [InlineData(GgmlType.I64, 1, 8)]
    [InlineData(GgmlType.F64, 1, 8)]
    [InlineData(GgmlType.IQ1_M, 256, 56)]
    [InlineData(GgmlType.BF16, 1, 2)]
    [InlineData(GgmlType.TQ1_0, 256, 54)]
    [InlineData(GgmlType.TQ2_0, 256, 66)]
    [InlineData(GgmlType.MXFP4, 32, 17)]
    public void Layout_matches_ggml(object ggmlType, int blockSize, int typeSize)
    {
        // object, not GgmlType: a public test method cannot name the library's internal enum.
        var type = (GgmlType)ggmlType;
        var info = GgmlTypes.Info(type);
        Assert.Equal(blockSize, info.BlockSize);
        Assert.Equal(typeSize, info.TypeSize);
        Assert.Equal(type.ToString(), info.Name);
    }

    [Fact]
    public void Table_covers_every_enum_value_and_bits_per_weight()
    {
        Assert.Equal(Enum.GetValues<GgmlType>().Length, GgmlTypes.All.Count);
        Assert.Equal(4.5, GgmlTypes.Info(GgmlType.Q4_K).BitsPerWeight);
        Assert.Equal(6.5625, GgmlTypes.Info(GgmlType.Q6_K).BitsPerWeight);
        Assert.Equal(8.5, GgmlTypes.Info(GgmlType.Q8_0).BitsPerWeight);
        Assert.True(GgmlTypes.TryParse("q4_k", out var q4k) && q4k.Type == GgmlType.Q4_K);
        Assert.False(GgmlTypes.IsKnown(4));
        Assert.False(GgmlTypes.IsKnown(31));
        Assert.True(GgmlTypes.Info(GgmlType.Q4_K).FitsRow(512));
        Assert.False(GgmlTypes.Info(GgmlType.Q4_K).FitsRow(64));
    }

    [Fact]
    public void File_type_names()
    {
        Assert.Equal("Q4_K_M", LlamaFileTypes.Name(15));
        Assert.Equal("F32", LlamaFileTypes.Name(0));
        Assert.Equal("BF16", LlamaFileTypes.Name(32));
        Assert.Null(LlamaFileTypes.Name(5));
        Assert.True(LlamaFileTypes.TryParse("q8_0", out int id) && id == 7);
    }
}
