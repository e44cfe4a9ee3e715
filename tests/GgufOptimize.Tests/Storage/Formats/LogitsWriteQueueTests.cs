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
        using (var queue = new LogitsWriteQueue(recorder, maxBufferedBytes: 2 * 4 * sizeof(float)))
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
        var queue = new LogitsWriteQueue(recorder, maxBufferedBytes: 1 << 20);
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
}
