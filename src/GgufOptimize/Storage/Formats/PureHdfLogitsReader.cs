using GgufOptimize.Common;
using GgufOptimize.Metrics;
using GgufOptimize.Chunking;
using GgufOptimize.Storage.Hdf5.Filters;
using PureHDF;
using PureHDF.Selections;
using PureHDF.VOL.Native;

namespace GgufOptimize.Storage.Formats;

/// <summary>
/// Full-row logits files we cannot memory-map, read chunk by chunk through PureHDF: those written by
/// llama-gguf-optimize's generate_logits.py (chunked, maybe gzip; no tokens: they come from <see cref="PythonToolChunks"/>)
/// and ours made with --compression gzip (tokens and provenance inside).
/// </summary>
/// <remarks>
/// Python-tool slots: logical chunk c lives in physical slot chunk_index[c]. kl_d_bench.py frees a chunk after comparing
/// it (appends c to freed_chunks, data untouched) and generate_logits.py then writes the next chunk into the slot of
/// freed_chunks[0] (dropping the last element of freed_chunks, not the first). So several logical chunks can point at one
/// slot, and freed_chunks is not an exact list. The tool computes chunks in increasing order, so the last writer of a
/// slot is the highest logical chunk pointing at it: that chunk owns the slot unless it is itself listed as freed; every
/// other chunk pointing at the slot was overwritten and counts as missing. Chunks not flagged in processed_chunks, or
/// with chunk_index −1, are missing too.
/// </remarks>
internal sealed class PureHdfLogitsReader : ILogitsSource
{
    private readonly NativeFile _file;
    private readonly IH5Dataset _logits;
    private readonly long[] _slot;
    private readonly int[]? _storedTokens;
    private readonly int[] _lengths;
    private readonly PythonToolChunks? _chunks;
    private float[] _rows = [];
    private Half[] _halfRows = [];
    private readonly bool _halfStored;

    public string Path { get; }
    public StoredLogitsKind Kind { get; }
    public string Origin { get; }
    public BaselineHeader? Header { get; }
    public int ContextSize { get; }
    public int VocabSize { get; }
    public int TotalChunks { get; }
    public int ProcessedCount => _slot.Count(s => s >= 0);
    /// <summary>Logical chunks whose slot was later reused for another chunk (Python-tool files).</summary>
    public int OverwrittenCount { get; }

    private PureHdfLogitsReader(string path, NativeFile file, PythonToolChunks? chunks)
    {
        Path = path;
        _file = file;
        string format = file.AttributeExists("format") ? file.Attribute("format").Read<string>() : "";
        ContextSize = StoredFileChecks.Context(path, "n_ctx", ReadInteger(file, "n_ctx"));
        VocabSize = StoredFileChecks.Vocab(path, "n_vocab", ReadInteger(file, "n_vocab"));
        _logits = file.Dataset("logits");
        var dims = _logits.Space.Dimensions;
        if (dims.Length != 3 || dims[1] != (ulong)ContextSize || dims[2] != (ulong)VocabSize || dims[0] > StoredFileChecks.MaxChunks)
            throw GgufOptimizeException.BadInput($"'{path}': dataset logits has shape [{string.Join(", ", dims)}], expected [chunks, {ContextSize}, {VocabSize}]");
        int slots = (int)dims[0];
        TotalChunks = file.AttributeExists("total_chunks") ? StoredFileChecks.Chunks(path, "total_chunks", ReadInteger(file, "total_chunks")) : slots;
        _halfStored = _logits.Type.Size == 2;
        if (_logits.Type.Class != H5DataTypeClass.FloatingPoint || _logits.Type.Size is not (2 or 4))
            throw GgufOptimizeException.BadInput($"'{path}': logits are {_logits.Type.Class} of {_logits.Type.Size} bytes, expected float32 or float16");

        if (format == BaselineLayout.FormatName)
        {
            Kind = StoredLogitsKind.FullCompressed;
            Header = ReadHeader(file, path);
            if (Header.ContextSize != ContextSize || Header.VocabSize != VocabSize || Header.TotalChunks != TotalChunks || Header.Precision != _logits.Type.Size * 8)
                throw GgufOptimizeException.BadInput($"'{path}': attributes (n_ctx {Header.ContextSize}, n_vocab {Header.VocabSize}, total_chunks {Header.TotalChunks}, precision {Header.Precision}) disagree with the logits dataset [{string.Join(", ", dims)}] of {_logits.Type.Size * 8}-bit values (the file is corrupt)");
            _storedTokens = file.Dataset("tokens").Read<int[]>();
            _lengths = file.Dataset("chunk_lengths").Read<int[]>();
            if (_storedTokens.LongLength != (long)TotalChunks * ContextSize || _lengths.Length != TotalChunks)
                throw GgufOptimizeException.BadInput($"'{path}': tokens ({_storedTokens.LongLength}) or chunk_lengths ({_lengths.Length}) do not match total_chunks {TotalChunks} × n_ctx {ContextSize} (the file is corrupt)");
            Origin = $"{Header.Model.FileName} (sha256 {Header.Model.Sha256[..12]}…)";
        }
        else
        {
            Kind = StoredLogitsKind.PythonTool;
            _chunks = chunks ?? throw GgufOptimizeException.BadInput(
                $"baseline '{path}' was written by llama-gguf-optimize ({(format.Length > 0 ? format : "no format attribute")}) and stores no tokens: give --dataset (the text it was made from) and --target-model, whose tokenizer rebuilds its chunks");
            if (chunks.ContextSize != ContextSize) throw GgufOptimizeException.Runtime($"internal error: chunks of {chunks.ContextSize} tokens made for '{path}' of n_ctx {ContextSize}");
            if (chunks.ChunkCount != TotalChunks)
                throw GgufOptimizeException.BadInput($"baseline '{path}' has {TotalChunks} chunks but the dataset ({chunks.Source}) makes {chunks.ChunkCount} with its rule: not the text or tokenizer it was made from");
            _lengths = new int[TotalChunks];
            for (int c = 0; c < TotalChunks; c++) _lengths[c] = chunks.Chunk(c).Length;
            Origin = $"llama-gguf-optimize logits ({format})";
        }

        var processed = file.LinkExists("processed_chunks") ? file.Dataset("processed_chunks").Read<bool[]>() : new bool[TotalChunks];
        var index = file.LinkExists("chunk_index") ? file.Dataset("chunk_index").Read<long[]>() : Enumerable.Range(0, TotalChunks).Select(i => (long)i).ToArray();
        var freed = file.LinkExists("freed_chunks") ? ReadIntegers(file.Dataset("freed_chunks")) : [];
        (_slot, OverwrittenCount) = ResolveSlots(processed, index, freed, TotalChunks, slots);
        if (_storedTokens is not null)
        {
            StoredFileChecks.Lengths(path, _lengths, HasChunk, ContextSize);
            StoredFileChecks.Tokens(path, _storedTokens, _lengths, HasChunk, ContextSize, VocabSize);
        }
        else
        {
            for (int c = 0; c < TotalChunks; c++)
                if (HasChunk(c) && _lengths[c] > ContextSize)
                    throw GgufOptimizeException.BadInput($"'{path}': chunk {c} rebuilt from the dataset has {_lengths[c]} tokens, more than n_ctx {ContextSize}");
        }
        ProbeFilters();
    }

    /// <summary>
    /// Reads one value of the first stored chunk, so a filter we cannot decode is reported when the file is opened
    /// (before any output exists), not in the middle of a comparison.
    /// </summary>
    private void ProbeFilters()
    {
        int first = Array.FindIndex(_slot, s => s >= 0);
        if (first < 0 || _lengths[first] == 0) return;
        var one = new HyperslabSelection(3, [(ulong)_slot[first], 0, 0], [1, 1, 1]);
        ReadLogits(() =>
        {
            if (_halfStored) _logits.Read(new Half[1], fileSelection: one);
            else _logits.Read(new float[1], fileSelection: one);
        });
    }

    /// <summary>Runs a PureHDF read of the logits, turning a decoding failure (unknown filter, corrupt chunk) into one clear error.</summary>
    private void ReadLogits(Action read)
    {
        try { read(); }
        catch (Exception e) when (e is not GgufOptimizeException and not OutOfMemoryException)
        {
            // PureHDF wraps a filter's failure in "Filter pipeline failed."; the innermost message names the cause.
            var cause = e;
            while (cause.InnerException is not null) cause = cause.InnerException;
            throw GgufOptimizeException.BadInput($"'{Path}': the logits dataset cannot be decoded ({cause.Message}); gguf-optimize reads the HDF5 filters gzip, lzf, shuffle, fletcher32, nbit and scale-offset (h5repack -f GZIP=4 rewrites a file with gzip)");
        }
    }

    public static PureHdfLogitsReader Open(string path, PythonToolChunks? chunks = null)
    {
        PureHdfFilters.EnsureRegistered();
        NativeFile file;
        try { file = H5File.OpenRead(path); }
        catch (Exception e) when (e is not GgufOptimizeException)
        {
            throw GgufOptimizeException.BadInput($"'{path}' cannot be read as HDF5: {e.Message}");
        }
        try { return new PureHdfLogitsReader(path, file, chunks); }
        catch (Exception e) when (e is not GgufOptimizeException and not OutOfMemoryException)
        {
            file.Dispose();
            throw GgufOptimizeException.BadInput($"'{path}' is not a readable logits file: {e.Message}");
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Ours (compressed) or the Python tool's, from the format attribute alone.</summary>
    public static StoredLogitsKind PeekKind(string path)
    {
        PureHdfFilters.EnsureRegistered();
        try
        {
            using var file = H5File.OpenRead(path);
            if (!file.LinkExists("logits")) throw GgufOptimizeException.BadInput($"'{path}' is an HDF5 file without a logits dataset");
            bool ours = file.AttributeExists("format") && file.Attribute("format").Read<string>() == BaselineLayout.FormatName;
            return ours ? StoredLogitsKind.FullCompressed : StoredLogitsKind.PythonTool;
        }
        catch (Exception e) when (e is not GgufOptimizeException)
        {
            throw GgufOptimizeException.BadInput($"'{path}' cannot be read as HDF5: {e.Message}");
        }
    }

    /// <summary>n_ctx of a file, read before the chunking that needs it is built.</summary>
    public static int ReadContextSize(string path)
    {
        PureHdfFilters.EnsureRegistered();
        try
        {
            using var file = H5File.OpenRead(path);
            return StoredFileChecks.Context(path, "n_ctx", ReadInteger(file, "n_ctx"));
        }
        catch (Exception e) when (e is not GgufOptimizeException and not OutOfMemoryException)
        {
            throw GgufOptimizeException.BadInput($"'{path}' cannot be read as HDF5: {e.Message}");
        }
    }

    /// <summary>The slot of each logical chunk (−1 = missing) under the rule in the remarks, and how many were overwritten.</summary>
    internal static (long[] Slot, int Overwritten) ResolveSlots(bool[] processed, long[] index, long[] freed, int chunks, int slots)
    {
        var owner = new Dictionary<long, int>();
        for (int c = 0; c < chunks; c++)
        {
            if (c >= processed.Length || !processed[c] || c >= index.Length || index[c] < 0 || index[c] >= slots) continue;
            owner[index[c]] = owner.TryGetValue(index[c], out int o) ? Math.Max(o, c) : c;
        }
        var freedSet = freed.ToHashSet();
        var slot = new long[chunks];
        Array.Fill(slot, -1L);
        int overwritten = 0;
        for (int c = 0; c < chunks; c++)
        {
            if (c >= processed.Length || !processed[c] || c >= index.Length || index[c] < 0 || index[c] >= slots) continue;
            if (owner[index[c]] != c) { overwritten++; continue; }
            if (freedSet.Contains(c)) continue;
            slot[c] = index[c];
        }
        return (slot, overwritten);
    }

    public bool HasChunk(int chunk) => (uint)chunk < (uint)_slot.Length && _slot[chunk] >= 0;

    public int ChunkLength(int chunk) => _lengths[chunk];

    public int[] ChunkTokens(int chunk) => _storedTokens is not null
        ? _storedTokens.AsSpan(chunk * ContextSize, _lengths[chunk]).ToArray()
        : _chunks!.Chunk(chunk);

    /// <summary>The chunk read into one reused buffer in its stored precision; float16 is widened row by row.</summary>
    public LogitRows ChunkRows(int chunk)
    {
        int count = _lengths[chunk] * VocabSize;
        if (_halfStored)
        {
            if (_halfRows.Length != count) _halfRows = new Half[count];
            var halfSelection = Selection(chunk);
            ReadLogits(() => _logits.Read(_halfRows, fileSelection: halfSelection));
            return LogitRows.Of(_halfRows, VocabSize);
        }
        if (_rows.Length != count) _rows = new float[count];
        var selection = Selection(chunk);
        ReadLogits(() => _logits.Read(_rows, fileSelection: selection));
        return LogitRows.Of(_rows, VocabSize);
    }

    public void Dispose() => _file.Dispose();

    private HyperslabSelection Selection(int chunk)
    {
        if (!HasChunk(chunk)) throw new ArgumentException($"'{Path}' lacks chunk {chunk}");
        return new HyperslabSelection(3, [(ulong)_slot[chunk], 0, 0], [1, (ulong)_lengths[chunk], (ulong)VocabSize]);
    }

    private static long ReadInteger(IH5Object obj, string name)
    {
        if (!obj.AttributeExists(name)) throw GgufOptimizeException.BadInput($"HDF5 file has no attribute '{name}'");
        var attribute = obj.Attribute(name);
        return attribute.Type.Size switch
        {
            8 => attribute.Read<long>(),
            4 => attribute.Read<int>(),
            2 => attribute.Read<short>(),
            _ => attribute.Read<byte>(),
        };
    }

    private static long[] ReadIntegers(IH5Dataset dataset)
    {
        if (dataset.Space.Dimensions.Length == 1 && dataset.Space.Dimensions[0] == 0) return [];
        if (dataset.Type.Class == H5DataTypeClass.FloatingPoint)
            return dataset.Type.Size == 8 ? dataset.Read<double[]>().Select(v => (long)v).ToArray() : dataset.Read<float[]>().Select(v => (long)v).ToArray();
        return dataset.Type.Size == 8 ? dataset.Read<long[]>() : dataset.Read<int[]>().Select(v => (long)v).ToArray();
    }

    private static BaselineHeader ReadHeader(NativeFile file, string path)
    {
        string S(string name) => file.Attribute(name).Read<string>();
        return new BaselineHeader
        {
            ContextSize = StoredFileChecks.Context(path, BaselineLayout.AttrContext, ReadInteger(file, BaselineLayout.AttrContext)),
            VocabSize = StoredFileChecks.Vocab(path, BaselineLayout.AttrVocab, ReadInteger(file, BaselineLayout.AttrVocab)),
            TotalChunks = StoredFileChecks.Chunks(path, BaselineLayout.AttrTotalChunks, ReadInteger(file, BaselineLayout.AttrTotalChunks)),
            Precision = StoredFileChecks.Bounded(path, BaselineLayout.AttrPrecision, ReadInteger(file, BaselineLayout.AttrPrecision), 16, 32),
            Model = new Chunking.ModelIdentity(S(BaselineLayout.AttrModelFile), ReadInteger(file, BaselineLayout.AttrModelSize), S(BaselineLayout.AttrModelSha)),
            DatasetFile = S(BaselineLayout.AttrDatasetFile),
            DatasetSha256 = S(BaselineLayout.AttrDatasetSha),
            TokenizerSha256 = S(BaselineLayout.AttrTokenizerSha),
            AddBos = file.Attribute(BaselineLayout.AttrAddBos).Read<bool>(),
            AddEos = file.Attribute(BaselineLayout.AttrAddEos).Read<bool>(),
            Engine = file.AttributeExists(BaselineLayout.AttrEngine) && S(BaselineLayout.AttrEngine) is { Length: > 0 } engine ? engine : null,
        };
    }
}
