using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace GgufOptimize.Storage.Formats;

/// <summary>
/// Moves storing off the decode thread: each decode batch's logits are copied, in slices of whole rows, into a fixed
/// set of recycled buffers and handed to one background thread that writes (and encodes) them, so that work and the
/// per-chunk fsync overlap the next batch's decode. The buffers together never exceed the byte bound (the decode
/// thread waits for a free one when the writer falls behind), whatever the batch size: a batch of 4096 rows of a
/// 128k vocabulary is 2.1 GB, and copying it whole had cost that much memory again. A chunk is flagged by the writer
/// only after all of its rows were written, in the order they were queued, so resuming after a kill stays exact.
/// (Writing full rows straight from the decode thread, one copy fewer, measured slower: the decode thread then waits
/// on the page cache.)
/// </summary>
internal sealed class LogitsWriteQueue : IDisposable
{
    /// <summary>Default bound on logits held in memory waiting for the disk.</summary>
    public const long DefaultMaxBufferedBytes = 512L << 20;

    /// <summary>
    /// Buffers the bound is split into: enough that the decode thread can fill one while the writer drains others, few
    /// enough that each slice stays large (one write call, one float16 conversion per slice).
    /// </summary>
    private const int SliceCount = 4;

    private readonly IBaselineWriter _target;
    private readonly BlockingCollection<Item> _items = new();
    private readonly Stack<float[]> _spare = new();
    private readonly Thread _thread;
    private readonly int _rowLength;
    private readonly int _sliceRows;
    private readonly int _maxBuffers;
    private readonly object _gate = new();
    private int _buffers;
    private volatile ExceptionDispatchInfo? _failure;
    private bool _finished;

    private readonly record struct Item(int Chunk, int FirstPosition, float[]? Rows, int Length);

    /// <param name="target">Where the rows go (called from the queue's thread only).</param>
    /// <param name="rowLength">Floats per row (n_vocab): slices hold whole rows.</param>
    /// <param name="maxBufferedBytes">Bound on the buffers' total size; a single row larger than it still goes through, alone.</param>
    public LogitsWriteQueue(IBaselineWriter target, int rowLength, long maxBufferedBytes = DefaultMaxBufferedBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rowLength, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBufferedBytes, 1);
        _target = target;
        _rowLength = rowLength;
        long rowBytes = (long)rowLength * sizeof(float);
        _sliceRows = (int)Math.Clamp(maxBufferedBytes / SliceCount / rowBytes, 1, Array.MaxLength / rowLength);
        _maxBuffers = (int)Math.Clamp(maxBufferedBytes / (_sliceRows * rowBytes), 1, SliceCount);
        _thread = new Thread(Drain) { Name = "logits writer", IsBackground = true };
        _thread.Start();
    }

    /// <summary>Bytes of row buffers this queue has allocated (they are recycled, never freed before the queue is).</summary>
    public long AllocatedBytes
    {
        get { lock (_gate) return (long)_buffers * _sliceRows * _rowLength * sizeof(float); }
    }

    /// <summary>Copies one batch of whole rows, slice by slice, and queues it; waits while every buffer is in use.</summary>
    public void Add(int chunk, int firstPosition, ReadOnlySpan<float> rows)
    {
        if (rows.Length % _rowLength != 0) throw new ArgumentException($"{rows.Length} floats are not whole rows of {_rowLength}", nameof(rows));
        int rowCount = rows.Length / _rowLength;
        for (int r = 0; r < rowCount; r += _sliceRows)
        {
            ThrowIfFailed();
            int n = Math.Min(_sliceRows, rowCount - r) * _rowLength;
            var buffer = Acquire();
            ThrowIfFailed();
            rows.Slice(r * _rowLength, n).CopyTo(buffer);
            _items.Add(new Item(chunk, firstPosition + r, buffer, n));
        }
    }

    /// <summary>Queues the chunk's "done" mark: written after every row queued before it.</summary>
    public void EndChunk(int chunk)
    {
        ThrowIfFailed();
        _items.Add(new Item(chunk, 0, null, 0));
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
    }

    private void Stop()
    {
        if (_finished) return;
        _finished = true;
        _items.CompleteAdding();
        _thread.Join();
    }

    private void ThrowIfFailed() => _failure?.Throw();

    /// <summary>A free buffer, a new one while fewer than the bound allows exist, or the next one the writer frees.</summary>
    private float[] Acquire()
    {
        lock (_gate)
        {
            while (true)
            {
                if (_spare.TryPop(out var buffer)) return buffer;
                if (_buffers < _maxBuffers)
                {
                    _buffers++;
                    return GC.AllocateUninitializedArray<float>(_sliceRows * _rowLength);
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
                else _target.WriteLogits(item.Chunk, item.FirstPosition, item.Rows.AsSpan(0, item.Length));
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
