using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Logits;
using GgufOptimize.Storage;
using GgufOptimize.Storage.Formats.Compact;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Logits;

/// <summary>
/// Which thread stores a batch: compact writers encode every row, so on a CPU-only run they work between decodes
/// (a queue thread would take a core from llama.cpp's decode threads); with layers on a GPU the cores are free during
/// the decode and the queue overlaps the two. Full files are always written through the queue.
/// </summary>
public class StoringThreadTests
{
    private static BaselineHeader Header(int vocab) => new()
    {
        ContextSize = 8, VocabSize = vocab, TotalChunks = 2, Precision = 32,
        Model = new ModelIdentity("m.gguf", 1, new string('a', 64)),
        DatasetFile = "d.txt", DatasetSha256 = new string('b', 64), TokenizerSha256 = new string('c', 64),
        AddBos = true, AddEos = false,
    };

    [Fact]
    public void Compact_writers_store_between_decodes_unless_layers_run_on_a_gpu()
    {
        using var tmp = new TempDir();
        const int vocab = 64;
        var chunks = new FixedChunks(8, [8, 8], vocab);
        using var compact = QuantizedBaselineWriter.OpenOrCreate(tmp.File("c.h5"), Header(vocab), chunks, QuantizedRowSettings.Default, clobber: false, NullProgress.Instance);
        using var full = BaselineLogitsFile.OpenOrCreate(tmp.File("f.h5"), Header(vocab), chunks, clobber: false, NullProgress.Instance);
        var auto = EngineSettings.Default;
        var cpuOnly = EngineSettings.Default with { GpuLayers = 0 };
        var allLayers = EngineSettings.Default with { GpuLayers = 99 };

        Assert.True(LogitsJob.StoresOnDecodeThread(compact, auto, gpuBackend: false));
        Assert.True(LogitsJob.StoresOnDecodeThread(compact, allLayers, gpuBackend: false));
        Assert.True(LogitsJob.StoresOnDecodeThread(compact, cpuOnly, gpuBackend: true));
        Assert.False(LogitsJob.StoresOnDecodeThread(compact, auto, gpuBackend: true));
        Assert.False(LogitsJob.StoresOnDecodeThread(compact, allLayers, gpuBackend: true));

        Assert.False(LogitsJob.StoresOnDecodeThread(full, auto, gpuBackend: false));
        Assert.False(LogitsJob.StoresOnDecodeThread(full, allLayers, gpuBackend: true));
    }
}
