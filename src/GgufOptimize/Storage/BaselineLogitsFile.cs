using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Storage.Formats;
using GgufOptimize.Storage.Hdf5;

namespace GgufOptimize.Storage;

/// <summary>
/// A baseline logits file being written. Every dataset is contiguous at an offset fixed when the file is created,
/// so logits go to disk with positional writes at disk speed and the small <c>processed_chunks</c> flags are patched
/// in place. The file lives under <c>NAME.partial</c> until the requested chunk range is complete, then is renamed;
/// a kill at any moment leaves a valid, resumable partial file whose flags name exactly the chunks fully written.
/// With a slot count (<c>kld --keep N</c>) the file holds only N chunks' logits: chunk c lives in slot c mod N, and
/// <c>chunk_index[c]</c> names its slot (−1 once a later chunk took it), so disk stays bounded on long runs.
/// </summary>
internal sealed class BaselineLogitsFile : IEncodedRowsWriter
{
    private readonly string _path;
    private readonly string _partialPath;
    private readonly Hdf5DataWriter _writer;
    private readonly Hdf5DatasetInfo _logits;
    private readonly Hdf5DatasetInfo _processed;
    private readonly Hdf5DatasetInfo _chunkIndex;
    private readonly bool[] _done;
    /// <summary>Null: one slot per chunk. Otherwise the chunk each slot holds (−1 = empty).</summary>
    private readonly long[]? _occupant;
    private Half[] _halfBuffer = [];
    private bool _closed;

    public BaselineHeader Header { get; }

    /// <param name="created">
    /// The file was just created: every flag is clear and no slot is taken, so nothing is read back (mapping the new
    /// file only to find zeros cost start-up time, BENCHMARKS.md).
    /// </param>
    private BaselineLogitsFile(string path, BaselineHeader header, Hdf5DataWriter writer, bool created)
    {
        _path = path;
        _partialPath = BaselineLayout.PartialPath(path);
        Header = header;
        _writer = writer;
        var layout = writer.Layout;
        _logits = layout.Dataset(BaselineLayout.Logits);
        _processed = layout.Dataset(BaselineLayout.ProcessedChunks);
        _chunkIndex = layout.Dataset(BaselineLayout.ChunkIndex);
        _done = new bool[header.TotalChunks];
        if (created)
        {
            if (SlotCount(layout) is int free)
            {
                _occupant = new long[free];
                Array.Fill(_occupant, -1L);
            }
            return;
        }
        using var reader = Hdf5MappedReader.Open(layout);
        var flags = reader.Elements<byte>(_processed, 0, header.TotalChunks);
        for (int i = 0; i < _done.Length; i++) _done[i] = flags[i] != 0;
        if (SlotCount(layout) is int slots)
        {
            _occupant = new long[slots];
            Array.Fill(_occupant, -1L);
            var index = reader.Elements<long>(_chunkIndex, 0, header.TotalChunks);
            for (int c = 0; c < index.Length; c++)
                if (_done[c] && index[c] >= 0 && index[c] < slots) _occupant[index[c]] = c;
        }
    }

    /// <summary>The slot count of a file written with <c>--keep N</c>; null when every chunk has its own slot.</summary>
    internal static int? SlotCount(Hdf5Layout layout) =>
        layout.Root.TryGetAttribute<long>(BaselineLayout.AttrSlots, out var slots) ? (int)slots : null;

    private long SlotOf(int chunk) => _occupant is null ? chunk : chunk % _occupant.Length;

    /// <summary>
    /// Continues the output (final or partial) when it was made from the same inputs, creates it otherwise.
    /// An output from other inputs is refused, or replaced with <paramref name="clobber"/>.
    /// </summary>
    /// <param name="chunksToWrite">
    /// Chunks this run will write (a shard's share); the file is sparse, so the free-space check asks for those only.
    /// Null = every chunk.
    /// </param>
    /// <param name="slots">Keep only this many chunks' logits (<c>kld --keep</c>); null keeps every chunk.</param>
    public static BaselineLogitsFile OpenOrCreate(string path, BaselineHeader header, IChunkSource plan, bool clobber, IProgressSink progress, int? chunksToWrite = null, int? slots = null)
    {
        if (slots is int n && n >= header.TotalChunks) slots = null;
        string partial = BaselineLayout.PartialPath(path);
        foreach (var candidate in new[] { path, partial })
        {
            if (!File.Exists(candidate)) continue;
            string? why = DescribeMismatch(candidate, header, slots);
            if (why is null)
            {
                if (candidate == path)
                {
                    // Reopened for more chunks: back under the partial name until the new range is complete.
                    FileStep.Move(path, partial, overwrite: true);
                }
                return new BaselineLogitsFile(path, header, Hdf5DataWriter.Open(partial), created: false);
            }
            Formats.OutputReplacement.RefuseOrDelete(candidate, why, clobber, progress);
        }
        EnsureFreeSpace(path, header, chunksToWrite, slots);
        // Create hands back the layout it read from the new file: no second read of it.
        return new BaselineLogitsFile(path, header, Hdf5DataWriter.Open(Hdf5ContiguousFile.Create(partial, BuildSpec(header, plan, slots))), created: true);
    }

    /// <summary>
    /// Refuses a new file for which the disk lacks space: the chunks (or slots) this run writes, with the arguments of
    /// <see cref="OpenOrCreate"/>. Callers that create the file later (during the first decode) call it first, so a full
    /// disk still stops the run before any work.
    /// </summary>
    public static void EnsureFreeSpace(string path, BaselineHeader header, int? chunksToWrite = null, int? slots = null) =>
        OutputPaths.EnsureFreeSpace(path, ExpectedBytes(header, Math.Min(chunksToWrite ?? header.TotalChunks, slots ?? header.TotalChunks)), "baseline logits");

    public bool IsProcessed(int chunk) => _done[chunk];

    /// <summary>Writes the logits of positions [firstPosition, …) of <paramref name="chunk"/>.</summary>
    public void WriteLogits(int chunk, int firstPosition, ReadOnlySpan<float> logits)
    {
        long first = (SlotOf(chunk) * Header.ContextSize + firstPosition) * Header.VocabSize;
        try
        {
            ClaimSlot(chunk);
            if (Header.Precision == 32)
            {
                // Straight from the caller's span: float32 needs no encoding, so no copy.
                _writer.Write(_logits, first, logits);
                return;
            }
            if (_halfBuffer.Length < logits.Length) _halfBuffer = new Half[logits.Length];
            var half = _halfBuffer.AsSpan(0, logits.Length);
            Encode(logits, MemoryMarshal.AsBytes(half));
            _writer.Write<Half>(_logits, first, half);
        }
        catch (IOException e)
        {
            throw WriteFailed(chunk, e);
        }
    }

    public int EncodedRowBytes => Header.VocabSize * (Header.Precision / 8);

    public int FirstStoredPosition => 0;

    public (int From, int To) StoredPositions(int firstPosition, int rows) => (firstPosition, firstPosition + rows);

    public long FilePosition(int chunk, int position) => _logits.Offset + RowByteOffset(chunk, position);

    private long RowByteOffset(int chunk, int position) => (SlotOf(chunk) * Header.ContextSize + position) * (long)EncodedRowBytes;

    /// <summary>The same bytes <see cref="WriteLogits"/> writes: the floats as they are, or converted to float16.</summary>
    public void Encode(ReadOnlySpan<float> rows, Span<byte> destination)
    {
        if (Header.Precision == 32) MemoryMarshal.AsBytes(rows).CopyTo(destination);
        else TensorPrimitives.ConvertToHalf(rows, MemoryMarshal.Cast<byte, Half>(destination)[..rows.Length]);
    }

    public void WriteEncoded(int chunk, int firstPosition, PinnedBuffer source, int start, int length)
    {
        try
        {
            ClaimSlot(chunk);
            _writer.WriteBytes(_logits, RowByteOffset(chunk, firstPosition), source, start, length);
        }
        catch (IOException e)
        {
            throw WriteFailed(chunk, e);
        }
    }

    /// <summary>Unflags the chunk a reused slot held before anything of <paramref name="chunk"/> lands in it.</summary>
    private void ClaimSlot(int chunk)
    {
        if (_occupant is not null) Evict(SlotOf(chunk), chunk);
    }

    private GgufOptimizeException WriteFailed(int chunk, IOException e) =>
        GgufOptimizeException.Runtime($"writing logits of chunk {chunk} to '{_partialPath}' failed: {e.Message} (the file is kept; rerun the same command after fixing this to resume)", e);

    /// <summary>
    /// Flags a chunk done after its logits are on disk (fdatasync), so neither a kill nor a power cut leaves a flag over
    /// data that was lost. The flag itself needs no sync of its own: a flag lost in a power cut only means the chunk is
    /// computed again, and the next chunk's sync (or <see cref="Complete"/>'s) makes it durable anyway.
    /// </summary>
    public void MarkProcessed(int chunk)
    {
        _writer.Flush();
        _writer.Write(_chunkIndex, chunk, (ReadOnlySpan<long>)[SlotOf(chunk)]);
        _writer.Write(_processed, chunk, (ReadOnlySpan<byte>)[1]);
        _done[chunk] = true;
    }

    /// <summary>
    /// Before a slot is overwritten, the chunk it held is unflagged and the flag synced: a kill while the new logits are
    /// half written must not leave the old chunk's flag over them.
    /// </summary>
    private void Evict(long slot, int chunk)
    {
        long old = _occupant![slot];
        if (old == chunk) return;
        if (old >= 0)
        {
            _writer.Write(_processed, old, (ReadOnlySpan<byte>)[0]);
            _writer.Write(_chunkIndex, old, (ReadOnlySpan<long>)[-1L]);
            _writer.Flush();
            _done[old] = false;
        }
        _occupant[slot] = chunk;
    }

    public string PartialPath => _partialPath;

    /// <summary>Every chunk of [from, to) is done.</summary>
    public bool IsComplete(int from, int to)
    {
        for (int c = from; c < to; c++) if (!_done[c]) return false;
        return true;
    }

    /// <summary>Syncs and closes the partial file without renaming it (for exporters that build the final file from it).</summary>
    public void Seal()
    {
        if (_closed) return;
        _writer.Flush();
        Close();
    }

    /// <summary>
    /// Renames the file to its final name when every chunk of [from, to) is done; a file of slots (which by design
    /// lacks all but the last chunks) is final whenever its writer says the run is.
    /// </summary>
    public bool Complete(int from, int to)
    {
        if (_occupant is null && !IsComplete(from, to)) return false;
        _writer.Flush();
        Close();
        FileStep.Move(_partialPath, _path, overwrite: true);
        return true;
    }

    public void Dispose() => Close();

    private void Close()
    {
        if (_closed) return;
        _closed = true;
        _writer.Dispose();
    }

    /// <summary>
    /// Disk space the file takes once <paramref name="chunks"/> chunks (or slots) are written; the tokens are there
    /// for all chunks. Null = every chunk.
    /// </summary>
    public static long ExpectedBytes(BaselineHeader header, int? chunks = null) =>
        (long)(chunks ?? header.TotalChunks) * header.ContextSize * header.VocabSize * (header.Precision / 8)
        + (long)header.TotalChunks * (header.ContextSize * 4 + 32) + (1 << 20);

    /// <summary>Null when the file at <paramref name="path"/> was made from the inputs of <paramref name="header"/>.</summary>
    private static string? DescribeMismatch(string path, BaselineHeader header, int? slots)
    {
        BaselineHeader existing;
        try
        {
            existing = BaselineLogitsReader.ReadHeader(path);
            int? had = SlotCount(Hdf5ContiguousFile.Open(path));
            if (had != slots)
                return $"was made with {(had is int h ? $"--keep {h}" : "every chunk kept")}, now {(slots is int s ? $"--keep {s}" : "every chunk kept")}";
        }
        catch (GgufOptimizeException e)
        {
            return $"is not a baseline logits file of this tool ({e.Message})";
        }
        string? diff = existing.Difference(header);
        return diff is null ? null : $"was made from {diff}";
    }

    private static Hdf5FileSpec BuildSpec(BaselineHeader header, IChunkSource plan, int? slots)
    {
        int chunks = header.TotalChunks, n = header.ContextSize;
        var spec = new Hdf5FileSpec();
        var root = spec.Root;
        SetProvenance(root, header, BaselineLayout.FormatName);
        if (slots is int s) root.SetAttribute(BaselineLayout.AttrSlots, s);
        root.AddDataset("logits", header.Precision == 16 ? H5ElementType.Float16 : H5ElementType.Float32, slots ?? chunks, n, header.VocabSize);
        root.AddDataset("processed_chunks", H5ElementType.Bool, chunks);
        var index = root.AddDataset("chunk_index", H5ElementType.Int64, chunks);
        index.SetInitialData(Enumerable.Repeat(-1L, chunks).ToArray());
        root.AddDataset("freed_chunks", H5ElementType.Int64, 0);
        AddTokens(root, header, plan);
        return spec;
    }

    /// <summary>The root attributes every baseline file of ours carries (the Python tool's four, then our provenance).</summary>
    internal static void SetProvenance(Hdf5GroupSpec root, BaselineHeader header, string format)
    {
        root.SetAttribute(BaselineLayout.AttrFormat, format);
        root.SetAttribute(BaselineLayout.AttrContext, header.ContextSize);
        root.SetAttribute(BaselineLayout.AttrVocab, header.VocabSize);
        root.SetAttribute(BaselineLayout.AttrTotalChunks, header.TotalChunks);
        root.SetAttribute(BaselineLayout.AttrPrecision, header.Precision);
        root.SetAttribute(BaselineLayout.AttrModelFile, header.Model.FileName);
        root.SetAttribute(BaselineLayout.AttrModelSize, header.Model.Size);
        root.SetAttribute(BaselineLayout.AttrModelSha, header.Model.Sha256);
        root.SetAttribute(BaselineLayout.AttrDatasetFile, header.DatasetFile);
        root.SetAttribute(BaselineLayout.AttrDatasetSha, header.DatasetSha256);
        root.SetAttribute(BaselineLayout.AttrTokenizerSha, header.TokenizerSha256);
        root.SetAttribute(BaselineLayout.AttrAddBos, header.AddBos);
        root.SetAttribute(BaselineLayout.AttrAddEos, header.AddEos);
        root.SetAttribute(BaselineLayout.AttrChunkRule, BaselineLayout.ChunkRule);
        if (header.Engine is not null) root.SetAttribute(BaselineLayout.AttrEngine, header.Engine);
    }

    /// <summary>tokens [chunks, n_ctx] (−1 past a chunk's end) and chunk_lengths [chunks], filled from the plan.</summary>
    internal static void AddTokens(Hdf5GroupSpec root, BaselineHeader header, IChunkSource plan)
    {
        int chunks = header.TotalChunks, n = header.ContextSize;
        var tokens = new int[(long)chunks * n];
        Array.Fill(tokens, -1);
        var lengths = new int[chunks];
        for (int c = 0; c < chunks; c++)
        {
            var chunk = plan.Chunk(c);
            chunk.CopyTo(tokens, (long)c * n);
            lengths[c] = chunk.Length;
        }
        root.AddDataset("tokens", H5ElementType.Int32, chunks, n).SetInitialData(tokens);
        root.AddDataset("chunk_lengths", H5ElementType.Int32, chunks).SetInitialData(lengths);
    }
}
