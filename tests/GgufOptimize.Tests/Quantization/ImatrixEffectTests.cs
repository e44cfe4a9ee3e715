using GgufOptimize.Common;
using GgufOptimize.Imatrix;
using GgufOptimize.Quantization;
using GgufOptimize.Tests.Support;
using Xunit.Abstractions;

namespace GgufOptimize.Tests.Quantization;

public class ImatrixEffectTests(ITestOutputHelper output)
{
    /// <summary>The effect the whole method relies on: an imatrix from in-distribution text lowers the divergence from F32.</summary>
    [Slow]
    [SkippableFact]
    public void Q4_0_with_an_imatrix_diverges_less_from_F32_on_unseen_text_than_without()
    {
        using var dir = new TempDir();
        ImatrixBuilder.Run(new ImatrixOptions
        {
            ModelPath = SharedAssets.AidreamsModel, DatasetPath = AidreamsText.WriteCalibration(dir),
            OutputPath = dir.File("calibration.gguf"), ContextSize = 128, Threads = 1,
        }, NullProgress.Instance);
        var options = new QuantizeOptions { ModelPath = SharedAssets.AidreamsModel, OutputDirectory = dir.Path, Types = [QuantizationTypes.Parse("Q4_0")], Threads = 1 };
        string plain = ModelQuantizer.Run(options, NullProgress.Instance).Single().OutputPath;
        string weighted = ModelQuantizer.Run(options with { ImatrixPath = dir.File("calibration.gguf") }, NullProgress.Instance).Single().OutputPath;

        string text = AidreamsText.Evaluation(100);
        var reference = AidreamsText.Logits(SharedAssets.AidreamsModel, text);
        double kldPlain = AidreamsText.MeanKld(reference, AidreamsText.Logits(plain, text), 512);
        double kldWeighted = AidreamsText.MeanKld(reference, AidreamsText.Logits(weighted, text), 512);
        output.WriteLine($"chunks {reference.Count}; mean KLD Q4_0 without imatrix {kldPlain:F6}, with imatrix {kldWeighted:F6} ({(1 - kldWeighted / kldPlain) * 100:F1}% lower)");
        Assert.True(kldWeighted < kldPlain, $"with imatrix {kldWeighted}, without {kldPlain}");
    }
}
