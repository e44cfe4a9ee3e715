using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Metrics;
using GgufOptimize.Storage.Hdf5;

namespace GgufOptimize.Storage;

/// <summary>Reads a baseline logits file written by <see cref="BaselineLogitsFile"/> through a memory map.</summary>
internal sealed class BaselineLogitsReader : ILogitsSource
{
    private readonly Hdf5MappedReader _reader;
    private readonly Hdf5DatasetInfo _logits;
    private readonly int[] _lengths;
    private readonly bool[] _processed;
    /// <summary>Where each chunk's logits start in the logits dataset (its slot, for a file written with --keep).</summary>
    private readonly long[] _slot;

    public BaselineHeader Header { get; }
    public string Path { get; }
    public string Origin => $"{Header.Model.FileName} (sha256 {Header.Model.Sha256[..12]}…)";
    public int ContextSize => Header.ContextSize;
    public int VocabSize => Header.VocabSize;
    public int TotalChunks => Header.TotalChunks;
    /// <summary>True for float16 storage (raw access: <see cref="ChunkLogitsHalf"/>; <see cref="ChunkRows"/> widens).</summary>
    public bool IsHalf => Header.Precision == 16;
    public int ProcessedCount => _processed.Count(p => p);

    private BaselineLogitsReader(string path, Hdf5Layout layout)
    {
        Path = path;
        Header = HeaderFrom(layout, path);
        _reader = Hdf5MappedReader.Open(layout);
        try
        {
            int chunks = Header.TotalChunks, n = Header.ContextSize;
            int? slots = BaselineLogitsFile.SlotCount(layout);
            _logits = StoredFileChecks.Shape(path, layout, BaselineLayout.Logits, null, slots ?? chunks, n, Header.VocabSize);
            if (!(Header.Precision == 16 ? _logits.Type.Accepts<Half>() : _logits.Type.Accepts<float>()))
                throw GgufOptimizeException.BadInput($"'{path}': attribute precision is {Header.Precision} but the logits are stored as {_logits.Type} (the file is corrupt)");
            StoredFileChecks.Shape<int>(path, layout, BaselineLayout.Tokens, chunks, n);
            StoredFileChecks.Shape<int>(path, layout, BaselineLayout.ChunkLengths, chunks);
            StoredFileChecks.Shape<byte>(path, layout, BaselineLayout.ProcessedChunks, chunks);
            _lengths = _reader.Elements<int>(BaselineLayout.ChunkLengths, 0, chunks).ToArray();
            var flags = _reader.Elements<byte>(BaselineLayout.ProcessedChunks, 0, chunks);
            _processed = new bool[chunks];
            for (int i = 0; i < _processed.Length; i++) _processed[i] = flags[i] != 0;
            _slot = new long[chunks];
            for (int i = 0; i < _slot.Length; i++) _slot[i] = i;
            if (slots is int kept)
            {
                // A file written with kld --keep: chunk_index maps each kept chunk to its slot; others are not there.
                Slots = kept;
                StoredFileChecks.Shape<long>(path, layout, BaselineLayout.ChunkIndex, chunks);
                var index = _reader.Elements<long>(BaselineLayout.ChunkIndex, 0, chunks);
                for (int i = 0; i < _slot.Length; i++)
                {
                    _slot[i] = index[i];
                    if (index[i] < 0 || index[i] >= kept) _processed[i] = false;
                }
            }
            StoredFileChecks.Lengths(path, _lengths, c => _processed[c], n);
            StoredFileChecks.Tokens(path, _reader.Elements<int>(BaselineLayout.Tokens, 0, checked(chunks * n)), _lengths, c => _processed[c], n, Header.VocabSize);
        }
        catch
        {
            _reader.Dispose();
            throw;
        }
    }

    /// <summary>Chunks the file has room for when it was written with <c>kld --keep N</c>; null when it keeps every chunk.</summary>
    public int? Slots { get; }

    public static BaselineLogitsReader Open(string path)
    {
        if (!File.Exists(path))
        {
            string partial = BaselineLayout.PartialPath(path);
            throw GgufOptimizeException.BadInput(File.Exists(partial)
                ? $"baseline logits '{path}' is not finished (only '{partial}' exists); run the same logits command again to complete it"
                : $"baseline logits '{path}' does not exist");
        }
        return new BaselineLogitsReader(path, OpenLayout(path));
    }

    public static BaselineHeader ReadHeader(string path) => HeaderFrom(OpenLayout(path), path);

    public bool HasChunk(int chunk) => (uint)chunk < (uint)_processed.Length && _processed[chunk];

    public int ChunkLength(int chunk) => _lengths[chunk];

    public int[] ChunkTokens(int chunk) =>
        _reader.Elements<int>(BaselineLayout.Tokens, (long)chunk * Header.ContextSize, _lengths[chunk]).ToArray();

    public ReadOnlySpan<float> ChunkLogits(int chunk)
    {
        if (IsHalf) throw new InvalidOperationException("float16 logits: use ChunkLogitsHalf");
        return _reader.Elements<float>(_logits, _slot[chunk] * Header.ContextSize * Header.VocabSize, _lengths[chunk] * Header.VocabSize);
    }

    public ReadOnlySpan<Half> ChunkLogitsHalf(int chunk)
    {
        if (!IsHalf) throw new InvalidOperationException("float32 logits: use ChunkLogits");
        return _reader.Elements<Half>(_logits, _slot[chunk] * Header.ContextSize * Header.VocabSize, _lengths[chunk] * Header.VocabSize);
    }

    /// <summary>
    /// Rows read from the file one at a time into the caller's scratch (float16 widened there): a positional read per
    /// row, not the memory map, because faulting a row's pages in costs several times more than copying it (see
    /// <see cref="MappedFile.Read{T}"/>), and nothing read stays resident.
    /// </summary>
    public LogitRows ChunkRows(int chunk)
    {
        long first = _slot[chunk] * Header.ContextSize * Header.VocabSize;
        int n = Header.VocabSize;
        return IsHalf
            ? LogitRows.Read<Half>(_lengths[chunk], n, (j, row) => _reader.Read(_logits, first + (long)j * n, row))
            : LogitRows.Read<float>(_lengths[chunk], n, (j, row) => _reader.Read(_logits, first + (long)j * n, row));
    }

    public void Dispose() => _reader.Dispose();

    private static Hdf5Layout OpenLayout(string path)
    {
        var layout = Hdf5ContiguousFile.Open(path);
        if (!layout.Root.TryGetAttribute<string>(BaselineLayout.AttrFormat, out var format) || format != BaselineLayout.FormatName)
            throw GgufOptimizeException.BadInput($"'{path}' is an HDF5 file but not a baseline logits file of gguf-optimize (format attribute {(format is null ? "missing" : $"'{format}'")})");
        return layout;
    }

    internal static BaselineHeader HeaderFrom(Hdf5Layout layout, string path)
    {
        var root = layout.Root;
        long precision = root.Attribute<long>(BaselineLayout.AttrPrecision);
        if (precision is not (16 or 32))
            throw GgufOptimizeException.BadInput($"'{path}': attribute precision is {precision}, expected 16 or 32 (the file is corrupt)");
        return new BaselineHeader
        {
            ContextSize = StoredFileChecks.Context(path, BaselineLayout.AttrContext, root.Attribute<long>(BaselineLayout.AttrContext)),
            VocabSize = StoredFileChecks.Vocab(path, BaselineLayout.AttrVocab, root.Attribute<long>(BaselineLayout.AttrVocab)),
            TotalChunks = StoredFileChecks.Chunks(path, BaselineLayout.AttrTotalChunks, root.Attribute<long>(BaselineLayout.AttrTotalChunks)),
            Precision = (int)precision,
            Model = new ModelIdentity(root.Attribute<string>(BaselineLayout.AttrModelFile), root.Attribute<long>(BaselineLayout.AttrModelSize), root.Attribute<string>(BaselineLayout.AttrModelSha)),
            DatasetFile = root.Attribute<string>(BaselineLayout.AttrDatasetFile),
            DatasetSha256 = root.Attribute<string>(BaselineLayout.AttrDatasetSha),
            TokenizerSha256 = root.Attribute<string>(BaselineLayout.AttrTokenizerSha),
            AddBos = root.Attribute<bool>(BaselineLayout.AttrAddBos),
            AddEos = root.Attribute<bool>(BaselineLayout.AttrAddEos),
            Engine = root.TryGetAttribute<string>(BaselineLayout.AttrEngine, out var engine) ? engine : null,
        };
    }
}
