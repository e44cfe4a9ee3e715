using GgufOptimize.Chunking;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using GgufOptimize.Common;
using GgufOptimize.Storage.Hdf5;

namespace GgufOptimize.Storage.Formats.LlamaCpp;

/// <summary>
/// Writes a llama.cpp .kld baseline in place: the file is laid out in full under <c>NAME.partial</c> (every row has a
/// fixed offset), rows n_ctx/2 … n_ctx−2 of each chunk are quantized and written as they arrive, and because the format
/// has no flags of its own the finished chunks are recorded in a side file <c>NAME.partial.done</c> (an identity line,
/// then one byte per chunk, set after the chunk's data is synced). Both become the final file by one rename.
/// </summary>
internal sealed class LlamaCppKldWriter : IEncodedRowsWriter
{
    private readonly string _path;
    private readonly string _partial;
    private readonly LlamaCppKldLayout _layout;
    private readonly FileStream? _data;
    private readonly FileStream? _flags;
    private readonly long _flagsOffset;
    private readonly bool[] _done;
    /// <summary>Large writes skip the page cache where the file system allows (see <see cref="DirectWrites"/>).</summary>
    private readonly DirectWrites? _direct;
    private readonly DirectWrites.WriteAction _normal;
    private ushort[] _rows = [];
    private bool _closed;

    private LlamaCppKldWriter(string path, LlamaCppKldLayout layout, FileStream? data, FileStream? flags, long flagsOffset, bool[] done)
    {
        _path = path;
        _partial = BaselineLayout.PartialPath(path);
        _layout = layout;
        _data = data;
        _flags = flags;
        _flagsOffset = flagsOffset;
        _done = done;
        _normal = WriteNormal;
        if (data is not null) _direct = DirectWrites.TryOpen(_partial);
    }

    public static string DonePath(string path) => BaselineLayout.PartialPath(path) + ".done";

    public static LlamaCppKldWriter OpenOrCreate(string path, BaselineHeader header, LlamaCppChunks chunks, bool clobber, IProgressSink progress)
    {
        var layout = new LlamaCppKldLayout(chunks.ContextSize, header.VocabSize, chunks.ChunkCount);
        string partial = BaselineLayout.PartialPath(path), donePath = DonePath(path);
        string identity = JsonSerializer.Serialize(header) + "\n";
        if (File.Exists(path))
        {
            string? why = DescribeMismatch(path, layout, chunks);
            if (why is null)
            {
                // A run killed between its final rename and removing the side file leaves the side file behind.
                FileStep.Delete(donePath);
                return new LlamaCppKldWriter(path, layout, null, null, 0, Enumerable.Repeat(true, layout.ChunkCount).ToArray());
            }
            OutputReplacement.RefuseOrDelete(path, why, clobber, progress);
        }
        if (File.Exists(partial) && File.Exists(donePath))
        {
            var doneBytes = File.ReadAllBytes(donePath);
            int idLength = Encoding.UTF8.GetByteCount(identity);
            bool same = doneBytes.Length == idLength + layout.ChunkCount
                        && Encoding.UTF8.GetString(doneBytes, 0, idLength) == identity
                        && new FileInfo(partial).Length == layout.FileBytes;
            if (same)
            {
                var done = new bool[layout.ChunkCount];
                for (int c = 0; c < done.Length; c++) done[c] = doneBytes[idLength + c] != 0;
                return Open(path, layout, idLength, done);
            }
            OutputReplacement.RefuseOrDelete(partial, "was made from other inputs", clobber, progress);
            FileStep.Delete(donePath);
        }
        // The side file is written after the data file, so a data file without one is a run killed in between:
        // it records no finished chunk, and starting it again loses nothing.
        else if (File.Exists(partial)) FileStep.Delete(partial);
        else if (File.Exists(donePath)) FileStep.Delete(donePath);

        OutputPaths.EnsureFreeSpace(path, layout.FileBytes, "llama.cpp baseline");
        AtomicFile.Write(partial, stream =>
        {
            Span<byte> head = stackalloc byte[20];
            LlamaCppKldLayout.Magic.CopyTo(head);
            BinaryPrimitives.WriteInt32LittleEndian(head[8..], layout.ContextSize);
            BinaryPrimitives.WriteInt32LittleEndian(head[12..], layout.VocabSize);
            BinaryPrimitives.WriteInt32LittleEndian(head[16..], layout.ChunkCount);
            stream.Write(head);
            stream.Write(MemoryMarshal.AsBytes(chunks.Tokens));
            stream.SetLength(layout.FileBytes);
        });
        var flags = new byte[Encoding.UTF8.GetByteCount(identity) + layout.ChunkCount];
        Encoding.UTF8.GetBytes(identity, flags);
        AtomicFile.WriteAllBytes(donePath, flags);
        return Open(path, layout, Encoding.UTF8.GetByteCount(identity), new bool[layout.ChunkCount]);
    }

    private static LlamaCppKldWriter Open(string path, LlamaCppKldLayout layout, int flagsOffset, bool[] done)
    {
        var options = new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.ReadWrite, Share = FileShare.Read, BufferSize = 0 };
        var data = new FileStream(BaselineLayout.PartialPath(path), options);
        var flags = new FileStream(DonePath(path), options);
        return new LlamaCppKldWriter(path, layout, data, flags, flagsOffset, done);
    }

    public bool IsProcessed(int chunk) => _done[chunk];

    public void WriteLogits(int chunk, int firstPosition, ReadOnlySpan<float> logits)
    {
        int n = _layout.VocabSize, rows = logits.Length / n;
        var (from, to) = StoredPositions(firstPosition, rows);
        if (from >= to) return;
        int width = _layout.RowUInt16s;
        if (_rows.Length < (to - from) * width) _rows = new ushort[(to - from) * width];
        var encoded = MemoryMarshal.AsBytes(_rows.AsSpan(0, (to - from) * width));
        Encode(logits.Slice((from - firstPosition) * n, (to - from) * n), encoded);
        WriteNormal(_layout.RowOffset(chunk, from), encoded);
    }

    public int EncodedRowBytes => (int)_layout.RowBytes;

    public int FirstStoredPosition => _layout.FirstPosition;

    /// <summary>Positions n_ctx/2 … n_ctx−2 of each chunk.</summary>
    public (int From, int To) StoredPositions(int firstPosition, int rows)
    {
        int from = Math.Max(firstPosition, _layout.FirstPosition);
        int to = Math.Min(firstPosition + rows, _layout.FirstPosition + _layout.RowsPerChunk);
        return from < to ? (from, to) : (from, from);
    }

    public long FilePosition(int chunk, int position) => _layout.RowOffset(chunk, position);

    /// <summary>
    /// Quantizes whole rows; a batch worth it is split across the cores (the decode threads wait for it anyway, and
    /// llama-perplexity spreads this work over its threads too).
    /// </summary>
    public void Encode(ReadOnlySpan<float> rows, Span<byte> destination)
    {
        int n = _layout.VocabSize, width = _layout.RowUInt16s, count = rows.Length / n;
        var output = MemoryMarshal.Cast<byte, ushort>(destination);
        int parts = (int)Math.Min(Math.Min(Environment.ProcessorCount, count), (long)rows.Length / ParallelFloats);
        if (parts <= 1)
        {
            for (int j = 0; j < count; j++) LlamaCppRowQuantizer.Quantize(rows.Slice(j * n, n), output.Slice(j * width, width));
            return;
        }
        unsafe
        {
            // Parallel.For cannot capture spans: the rows are handed over as pinned memory for the call's duration.
            fixed (float* input = rows)
            fixed (ushort* result = output)
            {
                float* inp = input; ushort* res = result;
                Parallel.For(0, parts, part =>
                {
                    int first = (int)((long)count * part / parts), last = (int)((long)count * (part + 1) / parts);
                    for (int j = first; j < last; j++)
                        LlamaCppRowQuantizer.Quantize(new ReadOnlySpan<float>(inp + (long)j * n, n), new Span<ushort>(res + (long)j * width, width));
                });
            }
        }
    }

    /// <summary>Floats of one batch below which quantizing on one thread is cheaper than handing work to another.</summary>
    private const int ParallelFloats = 1 << 20;

    public void WriteEncoded(int chunk, int firstPosition, PinnedBuffer source, int start, int length)
    {
        long position = _layout.RowOffset(chunk, firstPosition);
        if (_direct is not null) _direct.Write(position, source, start, length, _normal);
        else WriteNormal(position, source.Span(start, length));
    }

    private void WriteNormal(long position, ReadOnlySpan<byte> bytes)
    {
        try
        {
            RandomAccess.Write(_data!.SafeFileHandle, bytes, position);
        }
        catch (IOException e)
        {
            throw GgufOptimizeException.Runtime($"writing to '{_partial}' failed: {e.Message} (the file is kept; rerun the same command after fixing this to resume)", e);
        }
    }

    /// <summary>Syncs the chunk's rows, then sets its byte in the side file (see <see cref="BaselineLogitsFile.MarkProcessed"/>).</summary>
    public void MarkProcessed(int chunk)
    {
        FileStep.Sync(_data!);
        RandomAccess.Write(_flags!.SafeFileHandle, (ReadOnlySpan<byte>)[1], _flagsOffset + chunk);
        _done[chunk] = true;
    }

    /// <summary>A .kld file has no room for missing chunks: it is final only when every chunk is in.</summary>
    public bool Complete(int from, int to)
    {
        if (_done.Any(d => !d)) return false;
        if (_data is null) return true;
        FileStep.Sync(_data);
        Close();
        FileStep.Move(_partial, _path, overwrite: true);
        FileStep.Delete(DonePath(_path));
        return true;
    }

    public void Dispose() => Close();

    private void Close()
    {
        if (_closed) return;
        _closed = true;
        _direct?.Dispose();
        _data?.Dispose();
        _flags?.Dispose();
    }

    /// <summary>A finished .kld records no model or dataset: it is reused when its shape and tokens are the ones we would write.</summary>
    private static string? DescribeMismatch(string path, LlamaCppKldLayout layout, LlamaCppChunks chunks)
    {
        try
        {
            using var existing = LlamaCppKldReader.Open(path, chunks.Bos);
            if (existing.Layout != layout) return $"holds n_ctx {existing.Layout.ContextSize}, n_vocab {existing.Layout.VocabSize}, {existing.Layout.ChunkCount} chunks, not {layout.ContextSize}, {layout.VocabSize}, {layout.ChunkCount}";
            if (!existing.StoredTokens.SequenceEqual(chunks.Tokens)) return "holds other tokens (another dataset or tokenizer)";
            return null;
        }
        catch (GgufOptimizeException e)
        {
            return $"is not a complete llama.cpp .kld file ({e.Message})";
        }
    }
}
