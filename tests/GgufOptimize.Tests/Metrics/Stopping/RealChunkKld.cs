using GgufOptimize.Common;
using GgufOptimize.Imatrix;
using GgufOptimize.Kld;
using GgufOptimize.Logits;
using GgufOptimize.Metrics;
using GgufOptimize.Quantization;
using GgufOptimize.Tests.Quantization;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Metrics.Stopping;

/// <summary>
/// Per-chunk token KLD of real quantizations of the shared model, in text order, as `kld` computes them: the whole
/// sample text at context 128 (~300 chunks), Q8_0, Q4_K_M and Q4_0 (the planner keeps ffn_down in F16) and Q4_0 with
/// an imatrix from the first 182 samples. Made once per test run (about half a minute) and shared by every simulation.
/// </summary>
internal static class RealChunkKld
{
    public const string Q8_0 = "Q8_0", Q4_K_M = "Q4_K_M", Q4_0 = "Q4_0", Q4_0Imatrix = "Q4_0+imatrix";

    private static readonly Lazy<IReadOnlyDictionary<string, IReadOnlyList<ChunkResult>>> Data = new(Create);

    /// <summary>Comparisons by name; skips the calling test when ../shared is absent.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<ChunkResult>> Comparisons
    {
        get
        {
            SharedAssets.RequireRoot();
            return Data.Value;
        }
    }

    private static IReadOnlyDictionary<string, IReadOnlyList<ChunkResult>> Create()
    {
        using var dir = new TempDir();
        string text = dir.File("samples.txt");
        File.Copy(SharedAssets.AidreamsText, text);
        LogitsJob.Run(new LogitsJobOptions { ModelPath = SharedAssets.AidreamsModel, DatasetPath = text, OutputPath = dir.File("base.h5"), ContextSize = 128 },
            NullProgress.Instance, default);
        ImatrixBuilder.Run(new ImatrixOptions
        {
            ModelPath = SharedAssets.AidreamsModel, DatasetPath = AidreamsText.WriteCalibration(dir), OutputPath = dir.File("imatrix.gguf"), ContextSize = 128,
        }, NullProgress.Instance);

        var quantize = new QuantizeOptions
        {
            ModelPath = SharedAssets.AidreamsModel, OutputDirectory = dir.Path,
            Types = [QuantizationTypes.Parse(Q8_0), QuantizationTypes.Parse(Q4_K_M), QuantizationTypes.Parse(Q4_0)],
        };
        var targets = new Dictionary<string, string>();
        foreach (var (type, outcome) in quantize.Types.Zip(ModelQuantizer.Run(quantize, NullProgress.Instance)))
            targets[type.Name] = outcome.OutputPath;
        Directory.CreateDirectory(dir.File("imatrix"));
        targets[Q4_0Imatrix] = ModelQuantizer.Run(quantize with
        {
            Types = [QuantizationTypes.Parse(Q4_0)], ImatrixPath = dir.File("imatrix.gguf"), OutputDirectory = dir.File("imatrix"),
        }, NullProgress.Instance).Single().OutputPath;

        var result = new Dictionary<string, IReadOnlyList<ChunkResult>>();
        foreach (var (name, target) in targets)
            result[name] = KldJob.Run(new KldJobOptions
            {
                BaselineLogits = dir.File("base.h5"), TargetModel = target, OutputFile = dir.File($"cmp-{name}.h5"),
            }, NullProgress.Instance, default).Chunks;
        return result;
    }
}
