using System.Runtime.InteropServices;
using System.Security.Cryptography;
using GgufOptimize.Common;
using GgufOptimize.Metrics;

namespace GgufOptimize.Storage.Formats.LlamaCpp;

/// <summary>
/// Reads a llama.cpp .kld baseline (ours or llama-perplexity's): header and tokens through a memory map, rows to score
/// by positional reads. The file fixes its own chunks
/// and scored positions: the target is run on its tokens (<see cref="Chunking.LlamaCppChunks"/>) and scored at positions
/// n_ctx/2 … n_ctx−2 only, against the dequantized log-probabilities, as llama-perplexity --kl-divergence does.
/// A file cut short (an interrupted llama-perplexity run) offers the chunks it holds completely.
/// </summary>
internal sealed class LlamaCppKldReader : IStoredBaseline
{
    private readonly MappedFile _file;
    private readonly int _completeChunks;
    private readonly int? _bos;

    public string Path => _file.Path;
    public StoredLogitsKind Kind => StoredLogitsKind.LlamaCpp;
    public BaselineHeader? Header => null;
    public LlamaCppKldLayout Layout { get; }
    public string Identity { get; }
    public int ContextSize => Layout.ContextSize;
    public int VocabSize => Layout.VocabSize;
    public int TotalChunks => Layout.ChunkCount;
    public int ProcessedCount => _completeChunks;
    public int FirstStoredPosition => Layout.FirstPosition;
    /// <summary>The tokens as stored (no BOS substitution).</summary>
    public ReadOnlySpan<int> StoredTokens => _file.Span<int>(LlamaCppKldLayout.TokensOffset, checked(Layout.ChunkCount * Layout.ContextSize));

    private LlamaCppKldReader(MappedFile file, LlamaCppKldLayout layout, int completeChunks, int? bos, string identity)
    {
        _file = file;
        Layout = layout;
        _completeChunks = completeChunks;
        _bos = bos;
        Identity = identity;
    }

    /// <param name="bos">The evaluating model's BOS when it adds one (substituted for each chunk's first token), else null.</param>
    public static LlamaCppKldReader Open(string path, int? bos)
    {
        if (!File.Exists(path)) throw GgufOptimizeException.BadInput($"baseline '{path}' does not exist");
        var file = MappedFile.Open(path);
        try
        {
            if (file.Length < 20 || !file.Span<byte>(0, 8).SequenceEqual(LlamaCppKldLayout.Magic))
                throw GgufOptimizeException.BadInput($"'{path}' is not a llama.cpp log-probabilities file (no \"_logits_\" magic)");
            int nCtx = file.Span<int>(8, 1)[0], nVocab = file.Span<int>(12, 1)[0], nChunk = file.Span<int>(16, 1)[0];
            if (nCtx < 4 || nVocab < 1 || nChunk < 0)
                throw GgufOptimizeException.BadInput($"'{path}': implausible llama.cpp header (n_ctx {nCtx}, n_vocab {nVocab}, n_chunk {nChunk})");
            var layout = new LlamaCppKldLayout(nCtx, nVocab, nChunk);
            if (file.Length < layout.DataOffset)
                throw GgufOptimizeException.BadInput($"'{path}' is truncated: its {nChunk} chunks of {nCtx} tokens need {layout.DataOffset} bytes of header, the file has {file.Length}");
            if (file.Length > layout.FileBytes)
                throw GgufOptimizeException.BadInput($"'{path}' is longer ({file.Length} bytes) than its header says ({layout.FileBytes}): not a llama.cpp .kld file of this layout");
            int complete = (int)Math.Min(nChunk, (file.Length - layout.DataOffset) / layout.ChunkBytes);
            var tokens = file.Span<int>(LlamaCppKldLayout.TokensOffset, checked(nChunk * nCtx));
            foreach (int t in tokens)
                if ((uint)t >= (uint)nVocab)
                    throw GgufOptimizeException.BadInput($"'{path}' holds token id {t}, outside its vocabulary of {nVocab}");
            string identity = $"llama.cpp kld n_ctx {nCtx} n_vocab {nVocab} n_chunk {nChunk} complete {complete} bytes {file.Length} tokens sha256 {Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(tokens)))}";
            return new LlamaCppKldReader(file, layout, complete, bos, identity);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public bool HasChunk(int chunk) => (uint)chunk < (uint)_completeChunks;

    public int[] ChunkTokens(int chunk)
    {
        var tokens = _file.Span<int>(LlamaCppKldLayout.TokensOffset + (long)chunk * ContextSize * 4, ContextSize).ToArray();
        if (_bos is { } b) tokens[0] = b;
        return tokens;
    }

    public ChunkScoring BeginScore(int chunk, LogitRows target, int[] tokens, int skipFirst, int threads = 1)
    {
        int n = VocabSize;
        if (tokens.Length != ContextSize || target.Count != ContextSize || target.VocabSize != n)
            throw new ArgumentException($"a llama.cpp chunk has {ContextSize} tokens × {n} logits; got {tokens.Length} tokens, {target.Count} × {target.VocabSize} logits");
        if (!HasChunk(chunk)) throw new ArgumentException($"'{Path}' lacks chunk {chunk}");
        int first = Math.Max(skipFirst, Layout.FirstPosition);
        int floored = 0;
        for (int j = first; j < ContextSize - 1; j++)
        {
            long offset = Layout.RowOffset(chunk, j);
            // A valid row spans some range below log P = 0; a zero scale and minimum is an unwritten (torn) row, which
            // would read as n_vocab tokens of probability 1 each.
            var row = _file.Span<float>(offset, 2);
            if (row[0] == 0 && row[1] == 0 && n > 1)
                throw GgufOptimizeException.BadInput($"'{Path}': row {j} of chunk {chunk} is all zeros (scale 0, minimum 0): the file's tail was never written or was torn; remake it or cut it before chunk {chunk}");
            // The top log-probability (stored as 65535) is min + scale·65535 = log P_top ≤ 0; more means the row is not a distribution.
            if (float.IsFinite(row[0]) && float.IsFinite(row[1]) && (row[0] < 0 || row[1] + row[0] * ushort.MaxValue > 1e-3f))
                throw GgufOptimizeException.BadInput($"'{Path}': row {j} of chunk {chunk} has scale {row[0]} and minimum {row[1]}, so its log-probabilities reach {row[1] + row[0] * ushort.MaxValue} > 0: not a distribution (the file is corrupt)");
            if (QuantizedLogProbComparer.IsFloored(_file.Span<float>(offset, 1)[0], _file.Span<ushort>(offset + 8, n), tokens[j + 1])) floored++;
        }
        // Each thread's scratch: a target row (when the target is stored), then the stored row's bytes, read with a
        // positional read rather than faulted in through the map (cheaper for rows read once; see MappedFile.Read).
        int rowFloats = checked((int)(Layout.RowBytes / sizeof(float)));
        return new ChunkScoring(chunk, first, ContextSize - 1, threads, n + rowFloats, (start, end, results, scratch) =>
        {
            var stored = MemoryMarshal.AsBytes(scratch.AsSpan(n, rowFloats));
            for (int j = start; j < end; j++)
            {
                _file.Read(Layout.RowOffset(chunk, j), stored);
                var head = MemoryMarshal.Cast<byte, float>(stored[..8]);
                results[j - first] = QuantizedLogProbComparer.Compare(head[0], head[1], MemoryMarshal.Cast<byte, ushort>(stored.Slice(8, 2 * n)),
                    target.Row(j, scratch.AsSpan(0, n)), tokens[j + 1]);
            }
        }, finish: result => new ChunkResult(result.ChunkIndex, result.Kld, result.DeltaP, result.SameTop, result.LogProbBase, result.LogProbTarget, result.NonFiniteRows, floored)
        {
            FirstBaselineNonFiniteRow = result.FirstBaselineNonFiniteRow,
        })
        {
            // The checks above touched each row's first page through the map: once scored, those pages leave the process.
            Scored = (start, end) => _file.Release(Layout.RowOffset(chunk, start), Layout.RowOffset(chunk, end - 1) - Layout.RowOffset(chunk, start) + Layout.RowBytes),
        };
    }

    public void Dispose() => _file.Dispose();
}
