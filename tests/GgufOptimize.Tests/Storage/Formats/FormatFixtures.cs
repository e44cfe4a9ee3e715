using GgufOptimize.Common;
using GgufOptimize.Quantization;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Storage.Formats;

/// <summary>Inputs the format tests share: a slice of the real text and a quantized copy of the real model.</summary>
internal static class FormatFixtures
{
    public static string Text(TempDir tmp, int chars = 12000)
    {
        string path = tmp.File("data.txt");
        if (!File.Exists(path)) File.WriteAllText(path, File.ReadAllText(SharedAssets.AidreamsText)[..chars]);
        return path;
    }

    public static string Quantized(TempDir tmp, string type = "Q4_0")
    {
        var outcome = ModelQuantizer.Run(new QuantizeOptions
        {
            ModelPath = SharedAssets.AidreamsModel, OutputDirectory = tmp.Path, Types = [QuantizationTypes.Parse(type)], Threads = 1,
        }, NullProgress.Instance).Single();
        return outcome.OutputPath;
    }
}
