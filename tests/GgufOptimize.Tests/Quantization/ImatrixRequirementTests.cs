using GgufOptimize.Engine;
using GgufOptimize.Gguf;
using GgufOptimize.Quantization;

namespace GgufOptimize.Tests.Quantization;

/// <summary>
/// "Needs an importance matrix" is decided in one place (ImatrixRequirement); these pin it against the loaded ggml and
/// against llama.cpp c0c7e147's quantizer (src/llama-quant.cpp) and llama-quantize (tools/quantize/quantize.cpp).
/// </summary>
public class ImatrixRequirementTests
{
    [Fact]
    public void Ggml_asserts_on_exactly_iq2_xxs_iq2_xs_and_iq1_s()
    {
        // Every tensor type id the library knows is asked, so a llama.cpp update that changes ggml's list shows here.
        var ggml = Enumerable.Range(0, NativeQuantizer.GgmlTypeCount).Where(NativeQuantizer.RequiresImatrix).Select(Name).ToList();
        Assert.Equal(["IQ2_XXS", "IQ2_XS", "IQ1_S"], ggml);
    }

    [Fact]
    public void Llama_cpp_needs_imatrix_data_for_six_tensor_types()
    {
        // tensor_requires_imatrix in src/llama-quant.cpp: ggml's three plus IQ3_XXS, IQ2_S and IQ1_M (Q2_K depends on the file).
        var types = Enumerable.Range(0, NativeQuantizer.GgmlTypeCount).Where(ImatrixRequirement.ForTensorType).Select(Name).Order().ToList();
        Assert.Equal(["IQ1_M", "IQ1_S", "IQ2_S", "IQ2_XS", "IQ2_XXS", "IQ3_XXS"], types);
    }

    [Fact]
    public void Q2_K_needs_data_only_in_a_Q2_K_S_file_and_embeddings_and_output_never_do()
    {
        var q2ks = QuantizationTypes.Parse("Q2_K_S");
        var q2k = QuantizationTypes.Parse("Q2_K");
        Assert.True(ImatrixRequirement.ForTensor("blk.0.ffn_down.weight", (int)GgmlType.Q2_K, q2ks));
        Assert.False(ImatrixRequirement.ForTensor("blk.0.ffn_down.weight", (int)GgmlType.Q2_K, q2k));
        Assert.True(ImatrixRequirement.ForTensor("blk.0.ffn_down.weight", (int)GgmlType.IQ1_M, QuantizationTypes.Parse("IQ1_M")));
        Assert.False(ImatrixRequirement.ForTensor("blk.0.ffn_down.weight", (int)GgmlType.Q4_K, QuantizationTypes.Parse("IQ1_M")));
        foreach (string exempt in new[] { "token_embd.weight", "per_layer_token_embd.weight", "output.weight" })
        {
            Assert.False(ImatrixRequirement.ForTensor(exempt, (int)GgmlType.IQ2_XXS, QuantizationTypes.Parse("IQ2_XXS")));
            Assert.False(ImatrixRequirement.ForTensor(exempt, (int)GgmlType.Q2_K, q2ks));
        }
    }

    [Fact]
    public void The_file_types_refused_up_front_are_llama_quantizes()
    {
        // tools/quantize/quantize.cpp refuses exactly these without --imatrix ("Please do not use IQ1_S, IQ1_M, IQ2_S,
        // IQ2_XXS, IQ2_XS or Q2_K_S quantization without an importance matrix"); IQ2_M and IQ3_XXS are checked per tensor.
        var refused = QuantizationTypes.All.Where(ImatrixRequirement.ForFileType).Select(t => t.Name).Order().ToList();
        Assert.Equal(["IQ1_M", "IQ1_S", "IQ2_S", "IQ2_XS", "IQ2_XXS", "Q2_K_S"], refused);
    }

    [Fact]
    public void Every_file_types_bulk_tensor_type_is_a_type_the_library_knows()
    {
        foreach (var type in QuantizationTypes.All.Where(t => !t.OnlyCopy))
        {
            Assert.NotNull(type.BulkTensorType);
            Assert.Equal(type.BulkTensorType.ToString(), Name((int)type.BulkTensorType!.Value));
        }
    }

    private static string Name(int id) => TensorTypeCatalog.Name(id);
}
