using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace GgufOptimize.Storage.Formats;

/// <summary>
/// Moves storing off the decode thread: each decode batch's logits are copied into a recycled buffer and handed to one
/// background thread that writes (and encodes) them, so that work and the per-chunk fsync overlap the next batch's
/// decode. The buffered bytes are bounded (the decode thread waits when the writer falls behind), and a chunk is flagged
/// by the writer only after all of its rows were written, in the order they were queued, so resuming after a kill stays
/// exact. (Writing full rows straight from the decode thread, one copy fewer, measured slower: the decode thread then
/// waits on the page cache.)
/// </summary>
internal sealed class LogitsWriteQueue : IDisposable
{
    /// <summary>Default bound on logits held in memory waiting for the disk.</summary>
    public const long DefaultMaxBufferedBytes = 512L << 20;

    private readonly IBaselineWriter _target;
    private readonly BlockingCollection<Item> _items = new();
    // Batches are mostly the same size (n_ubatch × n_vocab), so buffers are recycled rather than pooled by size class:
    // a fresh multi-megabyte array per batch would cost an allocation and a page-faulting first touch every time.
    private readonly ConcurrentBag<float[]> _spare = new();
    private readonly Thread _thread;
    private readonly long _maxBufferedBytes;
    private readonly object _gate = new();
    private long _bufferedBytes;
    private volatile ExceptionDispatchInfo? _failure;
    private bool _finished;

    private readonly record struct Item(int Chunk, int FirstPosition, float[]? Rows, int Length);

    public LogitsWriteQueue(IBaselineWriter target, long maxBufferedBytes = DefaultMaxBufferedBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBufferedBytes, 1);
        _target = target;
        _maxBufferedBytes = maxBufferedBytes;
        _thread = new Thread(Drain) { Name = "logits writer", IsBackground = true };
        _thread.Start();
    }

    /// <summary>Copies one batch of rows and queues it; waits while the writer holds too much already.</summary>
    public void Add(int chunk, int firstPosition, ReadOnlySpan<float> rows)
    {
        ThrowIfFailed();
        long bytes = (long)rows.Length * sizeof(float);
        lock (_gate)
        {
            // A single batch larger than the bound still goes through, alone.
            while (_bufferedBytes > 0 && _bufferedBytes + bytes > _maxBufferedBytes && _failure is null)
                Monitor.Wait(_gate);
            _bufferedBytes += bytes;
        }
        ThrowIfFailed();
        var buffer = Rent(rows.Length);
        rows.CopyTo(buffer);
        _items.Add(new Item(chunk, firstPosition, buffer, rows.Length));
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
        if (!_finished)
        {
            _finished = true;
            _items.CompleteAdding();
            _thread.Join();
        }
        ThrowIfFailed();
    }

    /// <summary>Stops after writing what was queued (an interrupted chunk stays unflagged and is computed again).</summary>
    public void Dispose()
    {
        if (!_finished)
        {
            _finished = true;
            _items.CompleteAdding();
            _thread.Join();
        }
        _items.Dispose();
    }

    private void ThrowIfFailed() => _failure?.Throw();

    private float[] Rent(int length)
    {
        // The bag holds at most the buffers in flight under the byte bound; one that is too small is dropped.
        while (_spare.TryTake(out var buffer))
            if (buffer.Length >= length) return buffer;
        return GC.AllocateUninitializedArray<float>(length);
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
                    _spare.Add(item.Rows);
                    lock (_gate)
                    {
                        _bufferedBytes -= (long)item.Length * sizeof(float);
                        Monitor.PulseAll(_gate);
                    }
                }
            }
        }
    }
}
