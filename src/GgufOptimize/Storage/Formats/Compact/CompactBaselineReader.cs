using GgufOptimize.Common;
using GgufOptimize.Metrics;
using GgufOptimize.Storage.Hdf5;

namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>Reads a compact baseline file through a memory map and scores targets against it with <see cref="TopTailComparer"/>.</summary>
internal sealed class CompactBaselineReader : IStoredBaseline
{
    private readonly Hdf5MappedReader _reader;
    private readonly Hdf5DatasetInfo _counts, _tail, _logNorm, _next, _ids, _logits;
    private readonly long[] _entryStart;
    private readonly int[] _lengths;
    private readonly bool[] _processed;

    public string Path { get; }
    public StoredLogitsKind Kind => StoredLogitsKind.Compact;
    public BaselineHeader Header { get; }
    BaselineHeader? IStoredBaseline.Header => Header;
    public double TailMass { get; }
    public string Identity => $"compact logits of {Header.Model.Sha256} on {Header.DatasetSha256}, n_ctx {Header.ContextSize}, tail mass {TailMass:R}";
    public int ContextSize => Header.ContextSize;
    public int VocabSize => Header.VocabSize;
    public int TotalChunks => Header.TotalChunks;
    public int ProcessedCount => _processed.Count(p => p);
    public int FirstStoredPosition => 0;

    private CompactBaselineReader(string path, Hdf5Layout layout)
    {
        Path = path;
        Header = BaselineLogitsReader.HeaderFrom(layout, path);
        TailMass = layout.Root.Attribute<double>(CompactLayout.AttrTailMass);
        if (!(TailMass >= 0 && TailMass < 1))
            throw GgufOptimizeException.BadInput($"'{path}': attribute {CompactLayout.AttrTailMass} is {TailMass}, outside [0, 1) (the file is corrupt)");
        _reader = Hdf5MappedReader.Open(layout);
        try
        {
            int chunks = TotalChunks, n = ContextSize;
            _counts = StoredFileChecks.Shape<int>(path, layout, CompactLayout.TopCount, chunks, n);
            _tail = StoredFileChecks.Shape<float>(path, layout, CompactLayout.TailMass, chunks, n);
            _logNorm = StoredFileChecks.Shape<double>(path, layout, CompactLayout.LogNorm, chunks, n);
            _next = StoredFileChecks.Shape<float>(path, layout, CompactLayout.NextLogit, chunks, n);
            _ids = layout.TryGetDataset(CompactLayout.TopIds, out var ids) && ids.Shape.Count == 1 ? StoredFileChecks.Shape<int>(path, layout, CompactLayout.TopIds, ids.Shape[0])
                : throw GgufOptimizeException.BadInput($"'{path}' has no one-dimensional dataset {CompactLayout.TopIds} (the file is corrupt)");
            _logits = StoredFileChecks.Shape<float>(path, layout, CompactLayout.TopLogits, _ids.Shape.ToArray());
            StoredFileChecks.Shape<long>(path, layout, CompactLayout.EntryStart, chunks);
            StoredFileChecks.Shape<int>(path, layout, BaselineLayout.ChunkLengths, chunks);
            StoredFileChecks.Shape<byte>(path, layout, CompactLayout.ProcessedChunks, chunks);
            StoredFileChecks.Shape<int>(path, layout, BaselineLayout.Tokens, chunks, n);
            _entryStart = _reader.Elements<long>(CompactLayout.EntryStart, 0, chunks).ToArray();
            _lengths = _reader.Elements<int>(BaselineLayout.ChunkLengths, 0, chunks).ToArray();
            var flags = _reader.Elements<byte>(CompactLayout.ProcessedChunks, 0, chunks);
            _processed = new bool[chunks];
            for (int i = 0; i < _processed.Length; i++) _processed[i] = flags[i] != 0 && _entryStart[i] >= 0;
            StoredFileChecks.Lengths(path, _lengths, c => _processed[c], n);
            StoredFileChecks.Tokens(path, _reader.Elements<int>(BaselineLayout.Tokens, 0, checked(chunks * n)), _lengths, c => _processed[c], n, VocabSize);
            CheckEntries(path);
        }
        catch
        {
            _reader.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Each processed chunk's entries (entry_start + Σ top_count over its rows) lie inside top_ids, its counts are
    /// 1..n_vocab, its ids inside the vocabulary, and its stored numbers are finite where a finite row needs them.
    /// </summary>
    private void CheckEntries(string path)
    {
        long total = _ids.ElementCount;
        for (int c = 0; c < TotalChunks; c++)
        {
            if (!_processed[c]) continue;
            var counts = _reader.Elements<int>(_counts, (long)c * ContextSize, _lengths[c]);
            var tail = _reader.Elements<float>(_tail, (long)c * ContextSize, _lengths[c]);
            var logNorm = _reader.Elements<double>(_logNorm, (long)c * ContextSize, _lengths[c]);
            long entries = 0;
            for (int j = 0; j < counts.Length; j++)
            {
                if (counts[j] < 0 || counts[j] > VocabSize)
                    throw GgufOptimizeException.BadInput($"'{path}': top_count of row {j} of chunk {c} is {counts[j]}, outside 0..n_vocab {VocabSize} (the file is corrupt)");
                // A non-finite baseline row is stored as NaN tail mass with no entries; any other row needs a finite normalizer.
                if (!float.IsNaN(tail[j]) && (counts[j] == 0 || !double.IsFinite(logNorm[j]) || tail[j] is < 0 or > 1))
                    throw GgufOptimizeException.BadInput($"'{path}': row {j} of chunk {c} has {counts[j]} entries, tail mass {tail[j]} and log normalizer {logNorm[j]} (the file is corrupt)");
                entries += counts[j];
            }
            if (_entryStart[c] > total - entries)
                throw GgufOptimizeException.BadInput($"'{path}': chunk {c}'s entries [{_entryStart[c]}, {_entryStart[c] + entries}) lie outside top_ids ({total} entries): the compact index is corrupt");
            if (entries > int.MaxValue) throw GgufOptimizeException.BadInput($"compact baseline '{path}': chunk {c} holds more than 2^31 entries");
            var ids = _reader.Elements<int>(_ids, _entryStart[c], (int)entries);
            var logits = _reader.Elements<float>(_logits, _entryStart[c], (int)entries);
            for (int e = 0; e < ids.Length; e++)
            {
                if ((uint)ids[e] >= (uint)VocabSize)
                    throw GgufOptimizeException.BadInput($"'{path}': top_ids entry {_entryStart[c] + e} (chunk {c}) is {ids[e]}, outside the vocabulary of {VocabSize} (the file is corrupt)");
                if (!float.IsFinite(logits[e]))
                    throw GgufOptimizeException.BadInput($"'{path}': top_logits entry {_entryStart[c] + e} (chunk {c}) is {logits[e]}: the baseline holds NaN/Inf where a logit must be (the file is corrupt)");
            }
        }
    }

    public static CompactBaselineReader Open(string path)
    {
        var layout = Hdf5ContiguousFile.Open(path);
        if (!layout.Root.TryGetAttribute<string>(BaselineLayout.AttrFormat, out var format) || format != CompactLayout.FormatName)
            throw GgufOptimizeException.BadInput($"'{path}' is not a compact baseline file (format attribute {(format is null ? "missing" : $"'{format}'")})");
        return new CompactBaselineReader(path, layout);
    }

    public static (BaselineHeader Header, double TailMass) ReadHeader(string path)
    {
        using var reader = Open(path);
        return (reader.Header, reader.TailMass);
    }

    public bool HasChunk(int chunk) => (uint)chunk < (uint)_processed.Length && _processed[chunk];

    public int[] ChunkTokens(int chunk) =>
        _reader.Elements<int>(BaselineLayout.Tokens, (long)chunk * ContextSize, _lengths[chunk]).ToArray();

    /// <summary>The stored encoding of one chunk.</summary>
    public void ReadChunk(int chunk, CompactChunk into)
    {
        var s = Spans(chunk);
        into.Clear();
        into.AddRange(s.Counts, s.Tail, s.LogNorm, s.Next, s.Ids, s.Logits);
    }

    public ChunkScoring BeginScore(int chunk, LogitRows target, int[] tokens, int skipFirst, int threads = 1)
    {
        int n = VocabSize;
        if (target.Count != tokens.Length || target.VocabSize != n)
            throw new ArgumentException($"expected {tokens.Length} tokens × {n} logits, target has {target.Count} × {target.VocabSize}");
        var counts = Spans(chunk).Counts;
        if (counts.Length != tokens.Length)
            throw new ArgumentException($"chunk {chunk} of '{Path}' has {counts.Length} positions, {tokens.Length} tokens were given");
        var entryStart = new int[counts.Length + 1];
        for (int j = 0; j < counts.Length; j++) entryStart[j + 1] = entryStart[j] + counts[j];
        int first = Math.Clamp(skipFirst, 0, Math.Max(0, tokens.Length - 1));
        return new ChunkScoring(chunk, first, tokens.Length - 1, threads, 2 * n, (start, end, results, scratch) =>
        {
            var s = Spans(chunk);
            for (int j = start; j < end; j++)
            {
                int e = entryStart[j], k = entryStart[j + 1] - e;
                results[j - first] = TopTailComparer.Compare(s.Ids.Slice(e, k), s.Logits.Slice(e, k), s.LogNorm[j], s.Tail[j], s.Next[j],
                    target.Row(j, scratch.AsSpan(n, n)), tokens[j + 1], scratch.AsSpan(0, n));
            }
        });
    }

    public void Dispose() => _reader.Dispose();

    private readonly ref struct ChunkSpans(ReadOnlySpan<int> counts, ReadOnlySpan<float> tail, ReadOnlySpan<double> logNorm, ReadOnlySpan<float> next, ReadOnlySpan<int> ids, ReadOnlySpan<float> logits)
    {
        public readonly ReadOnlySpan<int> Counts = counts;
        public readonly ReadOnlySpan<float> Tail = tail;
        public readonly ReadOnlySpan<double> LogNorm = logNorm;
        public readonly ReadOnlySpan<float> Next = next;
        public readonly ReadOnlySpan<int> Ids = ids;
        public readonly ReadOnlySpan<float> Logits = logits;
    }

    private ChunkSpans Spans(int chunk)
    {
        if (!HasChunk(chunk)) throw new ArgumentException($"compact baseline '{Path}' lacks chunk {chunk}");
        int rows = _lengths[chunk];
        long row = (long)chunk * ContextSize;
        var counts = _reader.Elements<int>(_counts, row, rows);
        long entries = 0;
        foreach (int k in counts) entries += k;
        if (entries > int.MaxValue) throw GgufOptimizeException.BadInput($"compact baseline '{Path}': chunk {chunk} holds more than 2^31 entries");
        return new ChunkSpans(counts, _reader.Elements<float>(_tail, row, rows), _reader.Elements<double>(_logNorm, row, rows), _reader.Elements<float>(_next, row, rows),
            _reader.Elements<int>(_ids, _entryStart[chunk], (int)entries), _reader.Elements<float>(_logits, _entryStart[chunk], (int)entries));
    }
}
