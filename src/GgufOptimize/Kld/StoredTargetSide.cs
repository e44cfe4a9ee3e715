using GgufOptimize.Common;
using GgufOptimize.Metrics;
using GgufOptimize.Storage;
using GgufOptimize.Storage.Formats;

namespace GgufOptimize.Kld;

/// <summary>Stored full logits as the target: they must hold the baseline's chunks, made on the same tokens.</summary>
internal sealed class StoredTargetSide(StoredTarget stored) : ITargetSide
{
    private readonly ILogitsSource _rows = stored.Rows;

    public string Description => Path.GetFileName(_rows.Path);
    public string Identity => stored.Identity;

    public static StoredTargetSide Open(string path) => new(StoredBaselines.OpenTarget(path));

    public void Attach(IBaselineSide baseline, KldJobOptions options)
    {
        if (_rows.VocabSize != baseline.VocabSize)
            throw GgufOptimizeException.BadInput($"vocabulary size mismatch: baseline has {baseline.VocabSize} tokens, target logits '{_rows.Path}' have {_rows.VocabSize}");
        if (_rows.ContextSize != baseline.ContextSize)
            throw GgufOptimizeException.BadInput($"context mismatch: baseline chunks have {baseline.ContextSize} tokens, target logits '{_rows.Path}' have {_rows.ContextSize}");
        if (stored.Header is { } th && baseline.Header is { } bh && (th.DatasetSha256 != bh.DatasetSha256 || th.TokenizerSha256 != bh.TokenizerSha256))
            throw GgufOptimizeException.BadInput($"target logits '{_rows.Path}' were computed on other tokens (dataset or tokenizer differs from the baseline's)");
    }

    public LogitRows Logits(int chunk, int[] tokens)
    {
        if (!_rows.HasChunk(chunk))
            throw GgufOptimizeException.BadInput($"target logits '{_rows.Path}' lack chunk {chunk} that the baseline has");
        if (!_rows.ChunkTokens(chunk).AsSpan().SequenceEqual(tokens))
            throw GgufOptimizeException.BadInput($"target logits '{_rows.Path}' were computed on other tokens than the baseline at chunk {chunk}");
        return _rows.ChunkRows(chunk);
    }

    public void Dispose() => _rows.Dispose();
}
