using GgufOptimize.Storage.Formats;

namespace GgufOptimize.Tests.Storage.Formats;

public class LogitsWriteQueueTests
{
    private sealed class Recorder : IBaselineWriter
    {
        public readonly List<string> Calls = [];
        public int FailOnChunk = -1;
        public int Delay;

        public bool IsProcessed(int chunk) => false;

        public void WriteLogits(int chunk, int firstPosition, ReadOnlySpan<float> logits)
        {
            if (chunk == FailOnChunk) throw new IOException("disk full");
            if (Delay > 0) Thread.Sleep(Delay);
            lock (Calls) Calls.Add($"w{chunk}:{firstPosition}:{logits[0]}:{logits.Length}");
        }

        public void MarkProcessed(int chunk)
        {
            lock (Calls) Calls.Add($"m{chunk}");
        }

        public bool Complete(int from, int to) => true;
        public void Dispose() { }
    }

    [Fact]
    public void Rows_are_written_in_order_from_copies_and_each_chunk_is_flagged_after_its_rows()
    {
        var recorder = new Recorder { Delay = 2 };
        // A bound of two batches makes the producer wait for the writer.
        using (var queue = new LogitsWriteQueue(recorder, rowLength: 4, maxBufferedBytes: 2 * 4 * sizeof(float)))
        {
            var rows = new float[4];
            for (int c = 0; c < 3; c++)
            {
                for (int first = 0; first < 3; first++)
                {
                    rows[0] = c * 10 + first;
                    queue.Add(c, first, rows);
                    rows[0] = -1; // the queue must have copied the batch
                }
                queue.EndChunk(c);
            }
            queue.Finish();
        }
        Assert.Equal(new[]
        {
            "w0:0:0:4", "w0:1:1:4", "w0:2:2:4", "m0",
            "w1:0:10:4", "w1:1:11:4", "w1:2:12:4", "m1",
            "w2:0:20:4", "w2:1:21:4", "w2:2:22:4", "m2",
        }, recorder.Calls);
    }

    [Fact]
    public void A_write_failure_reaches_the_producer_and_no_later_chunk_is_flagged()
    {
        var recorder = new Recorder { FailOnChunk = 1 };
        var queue = new LogitsWriteQueue(recorder, rowLength: 8, maxBufferedBytes: 1 << 20);
        var rows = new float[8];
        var failure = Record.Exception(() =>
        {
            for (int c = 0; c < 50; c++)
            {
                queue.Add(c, 0, rows);
                queue.EndChunk(c);
            }
            queue.Finish();
        });
        queue.Dispose();
        Assert.IsType<IOException>(failure);
        Assert.Contains("m0", recorder.Calls);
        Assert.DoesNotContain(recorder.Calls, call => call.StartsWith('m') && call != "m0");
    }

    /// <summary>Keeps every row it is given, by position, and the largest write call.</summary>
    private sealed class Collector(int rowLength) : IBaselineWriter
    {
        public readonly Dictionary<(int Chunk, int Position), float[]> Rows = [];
        public readonly List<int> Flagged = [];
        public int LargestWrite;

        public bool IsProcessed(int chunk) => false;

        public void WriteLogits(int chunk, int firstPosition, ReadOnlySpan<float> logits)
        {
            Thread.Sleep(1);
            LargestWrite = Math.Max(LargestWrite, logits.Length);
            for (int r = 0; r < logits.Length / rowLength; r++)
                Assert.True(Rows.TryAdd((chunk, firstPosition + r), logits.Slice(r * rowLength, rowLength).ToArray()), $"row {chunk}:{firstPosition + r} written twice");
        }

        public void MarkProcessed(int chunk)
        {
            Assert.All(Enumerable.Range(0, 40), p => Assert.True(Rows.ContainsKey((chunk, p)), $"chunk {chunk} flagged before its row {p}"));
            Flagged.Add(chunk);
        }

        public bool Complete(int from, int to) => true;
        public void Dispose() { }
    }

    [Fact]
    public void A_batch_larger_than_the_bound_is_copied_in_slices_and_the_buffers_never_exceed_the_bound()
    {
        const int rowLength = 100, rows = 40;
        long bound = 10 * rowLength * sizeof(float); // a quarter of one batch
        var collector = new Collector(rowLength);
        long allocated;
        using (var queue = new LogitsWriteQueue(collector, rowLength, bound))
        {
            for (int c = 0; c < 3; c++)
            {
                var batch = new float[rows * rowLength];
                for (int i = 0; i < batch.Length; i++) batch[i] = c * 1_000_000 + i;
                queue.Add(c, 0, batch.AsSpan(0, 25 * rowLength));
                queue.Add(c, 25, batch.AsSpan(25 * rowLength));
                Array.Fill(batch, -1f); // the queue must have copied the rows
                queue.EndChunk(c);
                Assert.InRange(queue.AllocatedBytes, 1, bound);
            }
            queue.Finish();
            allocated = queue.AllocatedBytes;
        }
        Assert.InRange(allocated, 1, bound);
        Assert.InRange(collector.LargestWrite, rowLength, (int)(bound / sizeof(float)));
        Assert.Equal([0, 1, 2], collector.Flagged);
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < rows; p++)
                Assert.Equal(Enumerable.Range(p * rowLength, rowLength).Select(i => (float)(c * 1_000_000 + i)), collector.Rows[(c, p)]);
    }

    [Fact]
    public void A_row_larger_than_the_bound_still_goes_through_alone()
    {
        const int rowLength = 64;
        var collector = new Collector(rowLength);
        using var queue = new LogitsWriteQueue(collector, rowLength, maxBufferedBytes: 16);
        queue.Add(0, 0, Enumerable.Range(0, 40 * rowLength).Select(i => (float)i).ToArray());
        queue.EndChunk(0);
        queue.Finish();
        Assert.Equal(rowLength * sizeof(float), queue.AllocatedBytes);
        Assert.Equal(rowLength, collector.LargestWrite);
        Assert.Equal(40, collector.Rows.Count);
    }

    [Fact]
    public void Rows_that_are_not_whole_are_refused()
    {
        using var queue = new LogitsWriteQueue(new Collector(8), rowLength: 8);
        Assert.Throws<ArgumentException>(() => queue.Add(0, 0, new float[12]));
    }
}
