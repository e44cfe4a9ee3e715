using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Metrics;
using GgufOptimize.Storage;
using GgufOptimize.Storage.Formats;
using GgufOptimize.Storage.Formats.LlamaCpp;

namespace GgufOptimize.Kld;

/// <summary>A stored baseline of any format (<see cref="StoredBaselines"/>), checked against the given dataset.</summary>
internal sealed class StoredBaselineSide(IStoredBaseline file) : IBaselineSide
{
    private IProgressSink? _progress;

    public int TotalChunks => file.TotalChunks;
    public int ContextSize => file.ContextSize;
    public int VocabSize => file.VocabSize;
    public BaselineHeader? Header => file.Header;
    public string Description => Path.GetFileName(file.Path);
    public string Identity => file.Identity;
    /// <summary>What made the stored logits, when the file says: a baseline remade with other settings is another baseline.</summary>
    public string? EngineSettings => file.Header?.Engine;
    public int FirstStoredPosition => file.FirstStoredPosition;

    /// <summary>The file kinds whose chunks depend on the evaluating model's tokenizer: they need the target model first.</summary>
    public static bool NeedsTargetModel(StoredLogitsKind kind) => kind is StoredLogitsKind.LlamaCpp or StoredLogitsKind.PythonTool;

    /// <param name="targetModel">The target model, when <see cref="NeedsTargetModel"/>; it rebuilds or adjusts the file's chunks.</param>
    public static StoredBaselineSide Open(string path, StoredLogitsKind kind, string? dataset, LlamaModel? targetModel, int skipFirst, IProgressSink progress)
    {
        var context = targetModel is null ? new BaselineOpenContext() : new BaselineOpenContext
        {
            Specials = ForeignChunking.Specials(targetModel),
            PythonToolChunks = kind == StoredLogitsKind.PythonTool && dataset is not null ? ctx => ForeignChunking.PythonTool(targetModel, dataset, ctx) : null,
        };
        var side = new StoredBaselineSide(StoredBaselines.OpenBaseline(path, context));
        try
        {
            side.Check(path, dataset, targetModel, skipFirst, progress);
            return side;
        }
        catch
        {
            side.Dispose();
            throw;
        }
    }

    private void Check(string path, string? dataset, LlamaModel? targetModel, int skipFirst, IProgressSink progress)
    {
        if (dataset is not null && file.Header is { } header)
        {
            var corpus = TextCorpus.Load(dataset);
            if (corpus.Sha256 != header.DatasetSha256)
                throw GgufOptimizeException.BadInput($"baseline '{path}' was made from dataset '{header.DatasetFile}' (sha256 {header.DatasetSha256[..12]}…), not '{dataset}' (sha256 {corpus.Sha256[..12]}…)");
        }
        if (dataset is not null && file is LlamaCppKldReader kld) ForeignChunking.CheckKldTokens(kld, dataset, targetModel!);
        _progress = progress;
        if (file.Accuracy is { } accuracy) progress.Info($"baseline '{path}': {accuracy}");
        if (file.FirstStoredPosition > skipFirst)
            progress.Info($"baseline '{path}' stores positions {file.FirstStoredPosition}..{file.ContextSize - 2} of each chunk (llama-perplexity's second half); only those are scored");
        int done = file.ProcessedCount;
        if (done < file.TotalChunks)
            progress.Warn($"baseline '{path}' holds {done} of {file.TotalChunks} chunks; only those are compared");
    }

    public bool HasChunk(int chunk) => file.HasChunk(chunk);

    public int[] ChunkTokens(int chunk) => file.ChunkTokens(chunk);

    public IChunkScore BeginScore(int chunk, int[] tokens, int skipFirst, int threads)
    {
        var target = new LogitWindow(tokens.Length, VocabSize);
        return new WindowedChunkScore(target, file.BeginScore(chunk, target, tokens, skipFirst, threads));
    }

    /// <summary>Says how far the encoding may have moved the KLDs just scored (formats with a per-position bound).</summary>
    public void Complete()
    {
        if (file.ScoredBound is { } b && _progress is { } progress)
            progress.Info(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"baseline encoding error bound over the positions scored in this run: largest {b.Worst:G3} per position, mean {b.Mean:G3} (bounds the error of the mean KLD)"));
    }

    public void Dispose() => file.Dispose();
}
