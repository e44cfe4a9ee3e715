using GgufOptimize.Common;
using GgufOptimize.Imatrix;
using GgufOptimize.Kld;
using GgufOptimize.Logits;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Reliability;

/// <summary>
/// One valid file of every stored kind, made once from the real model on a little text (n_ctx 32): baselines full
/// float32/float16, gzip, compact and llama.cpp .kld, a comparison, and imatrices in both of llama.cpp's formats.
/// The corruption and fuzz tests mutate copies of these.
/// </summary>
public sealed class StoredInputs : IDisposable
{
    private readonly TempDir _dir = new();
    public const int Context = 32;

    public string? Skipped { get; }
    public string Data => _dir.File("data.txt");
    public string Full32 => _dir.File("full32.h5");
    public string Full16 => _dir.File("full16.h5");
    public string Gzip => _dir.File("gzip.h5");
    public string Compact => _dir.File("compact.h5");
    public string Quantized => _dir.File("compact2.h5");
    public string LlamaCpp => _dir.File("base.kld");
    public string Comparison => _dir.File("cmp.h5");
    public string ImatrixGguf => _dir.File("imatrix.gguf");
    public string ImatrixLegacy => _dir.File("imatrix.dat");

    public StoredInputs()
    {
        if (SharedAssets.SharedRoot is null)
        {
            Skipped = "needs ../shared (or GGUF_OPTIMIZE_SHARED)";
            return;
        }
        File.WriteAllText(Data, File.ReadAllText(SharedAssets.AidreamsText)[..2500]);
        void Logits(string output, Func<LogitsJobOptions, LogitsJobOptions> change) => LogitsJob.Run(change(new LogitsJobOptions
        {
            ModelPath = SharedAssets.AidreamsModel, DatasetPath = Data, OutputPath = output, ContextSize = Context, Threads = 1,
        }), NullProgress.Instance, default);
        Logits(Full32, o => o);
        Logits(Full16, o => o with { Precision = 16 });
        Logits(Gzip, o => o with { Compression = LogitsCompression.Gzip });
        Logits(Compact, o => o with { Format = LogitsFormat.Compact });
        Logits(Quantized, o => o with { Format = LogitsFormat.QuantizedCompact });
        Logits(LlamaCpp, o => o with { Format = LogitsFormat.LlamaCpp });
        KldJob.Run(new KldJobOptions { BaselineLogits = Full32, TargetLogits = Full16, OutputFile = Comparison, Threads = 1 }, NullProgress.Instance, default);
        foreach (var (path, format) in new[] { (ImatrixGguf, ImatrixFileFormat.Gguf), (ImatrixLegacy, ImatrixFileFormat.Dat) })
            ImatrixBuilder.Run(new ImatrixOptions
            {
                ModelPath = SharedAssets.AidreamsModel, DatasetPath = Data, OutputPath = path, Format = format, ContextSize = Context, Chunks = 4, Threads = 1,
            }, NullProgress.Instance);
    }

    /// <summary>A fresh copy of <paramref name="source"/> in a new file of the fixture's folder.</summary>
    public string Copy(string source, string? name = null)
    {
        string path = _dir.File((name ?? "copy") + "-" + Guid.NewGuid().ToString("N")[..8] + Path.GetExtension(source));
        File.Copy(source, path);
        return path;
    }

    public string NewFile(string extension) => _dir.File("new-" + Guid.NewGuid().ToString("N")[..8] + extension);

    public void Dispose() => _dir.Dispose();
}
