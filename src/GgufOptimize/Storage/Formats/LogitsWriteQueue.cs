using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using GgufOptimize.Storage.Hdf5;

namespace GgufOptimize.Storage.Formats;

/// <summary>
/// Moves writing off the decode thread: each decode batch's rows are put, in slices of whole rows, into a fixed set of
/// recycled buffers and handed to one background thread that writes them, so the writes and the per-chunk fsync
/// overlap the next batch's decode. The buffers together never exceed the byte bound (the decode thread waits for a
/// free one when the writer falls behind), whatever the batch size: a batch of 4096 rows of a 128k vocabulary is
/// 2.1 GB, and copying it whole had cost that much memory again. A chunk is flagged by the writer only after all of its
/// rows were written, in the order they were queued, so resuming after a kill stays exact.
/// For an <see cref="IEncodedRowsWriter"/> (float32, float16, .kld) the rows are encoded on the decode thread straight
/// from llama.cpp's buffer into the queue's buffer, at the file position's offset within a page, so each row is read
/// once, only the stored rows are touched, and the writer thread's large writes go to the disk with no further copy
/// (a profile had the copy into the queue, the copy into the O_DIRECT staging buffer and the encoding pass on the
/// writer thread, which competed with the two decode threads, as most of the storing overhead). Other writers get
/// float rows, copied, and encode them on the writer thread.
/// </summary>
internal sealed class LogitsWriteQueue : IDisposable
{
    /// <summary>Default bound on logits held in memory waiting for the disk.</summary>
    public const long DefaultMaxBufferedBytes = 512L << 20;

    /// <summary>
    /// Buffers the bound is split into: enough that the decode thread can fill one while the writer drains others, few
    /// enough that each slice stays large (one write call per slice).
    /// </summary>
    private const int SliceCount = 4;

    private readonly IBaselineWriter _target;
    private readonly IEncodedRowsWriter? _encoder;
    private readonly BlockingCollection<Item> _items = new();
    private readonly Stack<PinnedBuffer> _spare = new();
    /// <summary>Every buffer made, freed when the queue is (their memory is native).</summary>
    private readonly List<PinnedBuffer> _made = new();
    private readonly Thread _thread;
    private readonly int _rowLength;
    private readonly int _rowBytes;
    private readonly int _sliceRows;
    private readonly int _maxBuffers;
    private readonly object _gate = new();
    private int _buffers;
    private volatile ExceptionDispatchInfo? _failure;
    private bool _finished;

    /// <summary>Rows of a chunk from <c>FirstPosition</c>, bytes [Start, Start + Length) of <c>Rows</c>; no rows: the chunk's end.</summary>
    private readonly record struct Item(int Chunk, int FirstPosition, PinnedBuffer? Rows, int Start, int Length);

    /// <param name="target">Where the rows go (called from the queue's thread only, but for encoding).</param>
    /// <param name="rowLength">Floats per row (n_vocab): slices hold whole rows.</param>
    /// <param name="maxBufferedBytes">Bound on the buffers' total size; a single row larger than it still goes through, alone.</param>
    public LogitsWriteQueue(IBaselineWriter target, int rowLength, long maxBufferedBytes = DefaultMaxBufferedBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rowLength, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBufferedBytes, 1);
        _target = target;
        _encoder = target as IEncodedRowsWriter;
        _rowLength = rowLength;
        _rowBytes = _encoder?.EncodedRowBytes ?? checked(rowLength * sizeof(float));
        _sliceRows = (int)Math.Clamp(maxBufferedBytes / SliceCount / _rowBytes, 1, (Array.MaxLength - PinnedBuffer.Block) / _rowBytes);
        _maxBuffers = (int)Math.Clamp(maxBufferedBytes / ((long)_sliceRows * _rowBytes), 1, SliceCount);
        _thread = new Thread(Drain) { Name = "logits writer", IsBackground = true };
        _thread.Start();
    }

    /// <summary>Bytes of row buffers this queue has allocated (they are recycled, never freed before the queue is).</summary>
    public long AllocatedBytes
    {
        get { lock (_gate) return (long)_buffers * _sliceRows * _rowBytes; }
    }

    /// <summary>The first position of a chunk whose logits are stored (the engine need not compute earlier rows).</summary>
    public int FirstStoredPosition => _encoder?.FirstStoredPosition ?? 0;

    /// <summary>Encodes (or copies) one batch of whole rows, slice by slice, and queues it; waits while every buffer is in use.</summary>
    public void Add(int chunk, int firstPosition, ReadOnlySpan<float> rows)
    {
        if (rows.Length % _rowLength != 0) throw new ArgumentException($"{rows.Length} floats are not whole rows of {_rowLength}", nameof(rows));
        int rowCount = rows.Length / _rowLength;
        var (from, to) = _encoder?.StoredPositions(firstPosition, rowCount) ?? (firstPosition, firstPosition + rowCount);
        for (int p = from; p < to; p += _sliceRows)
        {
            ThrowIfFailed();
            int n = Math.Min(_sliceRows, to - p);
            var source = rows.Slice((p - firstPosition) * _rowLength, n * _rowLength);
            var buffer = Acquire();
            ThrowIfFailed();
            int length = n * _rowBytes, start = 0;
            if (_encoder is not null)
            {
                start = buffer.StartFor(_encoder.FilePosition(chunk, p));
                _encoder.Encode(source, buffer.Span(start, length));
            }
            else source.CopyTo(MemoryMarshal.Cast<byte, float>(buffer.Span(0, length)));
            _items.Add(new Item(chunk, p, buffer, start, length));
        }
    }

    /// <summary>Queues the chunk's "done" mark: written after every row queued before it.</summary>
    public void EndChunk(int chunk)
    {
        ThrowIfFailed();
        _items.Add(new Item(chunk, 0, null, 0, 0));
    }

    /// <summary>Waits until everything queued is written and flagged; rethrows the writer's failure, if any.</summary>
    public void Finish()
    {
        Stop();
        ThrowIfFailed();
    }

    /// <summary>Stops after writing what was queued (an interrupted chunk stays unflagged and is computed again).</summary>
    public void Dispose()
    {
        Stop();
        _items.Dispose();
        lock (_gate)
        {
            foreach (var buffer in _made) buffer.Dispose();
            _made.Clear();
            _spare.Clear();
        }
    }

    private void Stop()
    {
        if (_finished) return;
        _finished = true;
        _items.CompleteAdding();
        _thread.Join();
    }

    private void ThrowIfFailed() => _failure?.Throw();

    /// <summary>
    /// The most recently freed buffer (its pages are already mapped and likely in cache), a new one while fewer than the
    /// bound allows exist, or the next one the writer frees.
    /// </summary>
    private PinnedBuffer Acquire()
    {
        lock (_gate)
        {
            while (true)
            {
                if (_spare.TryPop(out var buffer)) return buffer;
                if (_buffers < _maxBuffers)
                {
                    _buffers++;
                    var made = new PinnedBuffer(_sliceRows * _rowBytes);
                    _made.Add(made);
                    return made;
                }
                Monitor.Wait(_gate);
            }
        }
    }

    private void Drain()
    {
        foreach (var item in _items.GetConsumingEnumerable())
        {
            try
            {
                if (_failure is not null) continue;
                if (item.Rows is null) _target.MarkProcessed(item.Chunk);
                else if (_encoder is not null) _encoder.WriteEncoded(item.Chunk, item.FirstPosition, item.Rows, item.Start, item.Length);
                else _target.WriteLogits(item.Chunk, item.FirstPosition, MemoryMarshal.Cast<byte, float>(item.Rows.Span(item.Start, item.Length)));
            }
            catch (Exception e)
            {
                _failure = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                if (item.Rows is not null)
                {
                    lock (_gate)
                    {
                        _spare.Push(item.Rows);
                        Monitor.PulseAll(_gate);
                    }
                }
            }
        }
    }
}
