using GgufOptimize.Common;
using GgufOptimize.Metrics;
using GgufOptimize.Storage;
using GgufOptimize.Storage.Formats;

namespace GgufOptimize.Kld;

/// <summary>Stored full logits as the target: they must hold the baseline's chunks, made on the same tokens.</summary>
/// <param name="windowRows">Rows handed to the scorer at a time; by default what a decode batch holds at the default batch cap.</param>
internal sealed class StoredTargetSide(StoredTarget stored, int? windowRows = null) : ITargetSide
{
    private readonly ILogitsSource _rows = stored.Rows;
    private int _firstScored;

    public string Description => Path.GetFileName(_rows.Path);
    public string Identity => stored.Identity;
    public string? EngineSettings => null;

    public TargetFacts Facts() => new() { Path = System.IO.Path.GetFullPath(_rows.Path), Model = stored.Header?.Model.FileName };

    public static StoredTargetSide Open(string path, int? windowRows = null) => new(StoredBaselines.OpenTarget(path), windowRows);

    public void Attach(IBaselineSide baseline, KldJobOptions options)
    {
        if (_rows.VocabSize != baseline.VocabSize)
            throw GgufOptimizeException.BadInput($"vocabulary size mismatch: baseline has {baseline.VocabSize} tokens, target logits '{_rows.Path}' have {_rows.VocabSize}");
        if (_rows.ContextSize != baseline.ContextSize)
            throw GgufOptimizeException.BadInput($"context mismatch: baseline chunks have {baseline.ContextSize} tokens, target logits '{_rows.Path}' have {_rows.ContextSize}");
        if (stored.Header is { } th && baseline.Header is { } bh && (th.DatasetSha256 != bh.DatasetSha256 || th.TokenizerSha256 != bh.TokenizerSha256))
            throw GgufOptimizeException.BadInput($"target logits '{_rows.Path}' were computed on other tokens (dataset or tokenizer differs from the baseline's)");
        CheckChunking(baseline);
        _firstScored = Math.Max(options.SkipFirst, baseline.FirstStoredPosition);
    }

    /// <summary>
    /// Stored target logits are paired with the baseline chunk by chunk, so before any work the chunking must provably
    /// match: the same chunk count, and for every chunk both hold the same tokens (hence the same length). Files whose
    /// chunks cannot be proven equal (the Python tool's, which store no tokens) are refused when opened.
    /// </summary>
    private void CheckChunking(IBaselineSide baseline)
    {
        string path = _rows.Path;
        if (_rows.TotalChunks != baseline.TotalChunks)
            throw GgufOptimizeException.BadInput($"target logits '{path}' have {_rows.TotalChunks} chunks, the baseline {baseline.TotalChunks}: they were chunked differently (another chunk rule, context or text), so their chunks hold different tokens; make both with the same tool and --context-size");
        for (int c = 0; c < baseline.TotalChunks; c++)
        {
            if (!baseline.HasChunk(c) || !_rows.HasChunk(c)) continue;
            int[] ours = baseline.ChunkTokens(c), theirs = _rows.ChunkTokens(c);
            if (ours.Length != theirs.Length)
                throw GgufOptimizeException.BadInput($"target logits '{path}' were chunked differently from the baseline: chunk {c} has {theirs.Length} tokens there, {ours.Length} in the baseline; make both with the same tool and --context-size");
            if (!ours.AsSpan().SequenceEqual(theirs))
                throw GgufOptimizeException.BadInput($"target logits '{path}' hold other tokens than the baseline in chunk {c} (first difference at position {ours.AsSpan().CommonPrefixLength(theirs)}): not the same text, tokenizer or chunk rule");
        }
    }

    public void Stream(int chunk, int[] tokens, Action<int, LogitRows> onRows)
    {
        if (!_rows.HasChunk(chunk))
            throw GgufOptimizeException.BadInput($"target logits '{_rows.Path}' lack chunk {chunk} that the baseline has");
        if (!_rows.ChunkTokens(chunk).AsSpan().SequenceEqual(tokens))
            throw GgufOptimizeException.BadInput($"target logits '{_rows.Path}' were computed on other tokens than the baseline at chunk {chunk}");
        var rows = _rows.ChunkRows(chunk);
        int step = windowRows ?? Math.Max(MinWindowRows, (int)(WindowBytes / (4L * rows.VocabSize)));
        // From the first scored position (as a model target), in windows whose pages are let go once scored.
        for (int first = Math.Min(_firstScored, Math.Max(0, rows.Count - 1)); first < rows.Count; first += step)
        {
            int count = Math.Min(step, rows.Count - first);
            onRows(first, rows.Slice(first, count));
            rows.Release(first, count);
        }
    }

    /// <summary>Rows handed out at a time: what a decode batch holds at the default batch cap (256 MiB of float32).</summary>
    private const long WindowBytes = 256L << 20;
    private const int MinWindowRows = 64;

    public void Dispose() => _rows.Dispose();
}
