using System.Runtime.InteropServices;
using GgufOptimize.Engine;
using GgufOptimize.Engine.Native;
using LLama.Native;

namespace GgufOptimize.Tests.Quantization;

public class NativeLayoutTests
{
    [Fact]
    public unsafe void Our_quantize_params_match_the_library_and_LLamaSharps_declaration()
    {
        NativeLayout.VerifyQuantizeParams();
        Assert.Equal(43, NativeQuantizer.GgmlTypeCount); // c0c7e147 ends with q1_0 (41) and q2_0 (42)
        Assert.Equal(56, sizeof(LlamaQuantizeApi.QuantizeParams));
        Assert.Equal(56, Marshal.SizeOf<LLamaModelQuantizeParams>());
        Assert.Equal(21, (int)Marshal.OffsetOf<LlamaQuantizeApi.QuantizeParams>(nameof(LlamaQuantizeApi.QuantizeParams.DryRun)));
        Assert.Equal((int)Marshal.OffsetOf<LLamaModelQuantizeParams>("_dry_run"), (int)Marshal.OffsetOf<LlamaQuantizeApi.QuantizeParams>(nameof(LlamaQuantizeApi.QuantizeParams.DryRun)));
        Assert.Equal((int)Marshal.OffsetOf<LLamaModelQuantizeParams>("imatrix"), (int)Marshal.OffsetOf<LlamaQuantizeApi.QuantizeParams>(nameof(LlamaQuantizeApi.QuantizeParams.Imatrix)));
        Assert.Equal((int)Marshal.OffsetOf<LLamaModelQuantizeParams>("kv_overrides"), (int)Marshal.OffsetOf<LlamaQuantizeApi.QuantizeParams>(nameof(LlamaQuantizeApi.QuantizeParams.KvOverrides)));
        Assert.Equal((int)Marshal.OffsetOf<LLamaModelQuantizeParams>("tensor_types"), (int)Marshal.OffsetOf<LlamaQuantizeApi.QuantizeParams>(nameof(LlamaQuantizeApi.QuantizeParams.TensorTypes)));
        Assert.Equal(24, sizeof(LlamaQuantizeApi.ImatrixData));
        Assert.Equal(16, sizeof(LlamaQuantizeApi.TensorTypeOverride));
        Assert.Equal(Marshal.SizeOf<LLamaModelMetadataOverride>(), sizeof(LlamaQuantizeApi.KvOverride));
    }

    [Fact]
    public void Our_view_of_ggml_tensor_matches_ggml()
    {
        NativeLayout.VerifyTensor(); // builds tensors and a MUL_MAT node with ggml and reads them back through our offsets
        Assert.Equal("q4_K", NativeQuantizer.TypeName(12));
        Assert.Equal((256L, 144L), NativeQuantizer.TypeLayout(12));
        Assert.Null(NativeQuantizer.TypeName(NativeQuantizer.GgmlTypeCount));
    }
}
