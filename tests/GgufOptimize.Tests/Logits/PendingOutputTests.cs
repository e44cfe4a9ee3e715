using GgufOptimize.Common;
using GgufOptimize.Logits;
using GgufOptimize.Storage.Formats;

namespace GgufOptimize.Tests.Logits;

/// <summary>
/// How a logits run's output is opened: an existing one at once, a fresh one on a side task joined when the writer is
/// first needed, with its failure rethrown there unchanged. (Every logits test that writes a new output runs the side
/// task with real llama.cpp; these pin the hand-over itself.)
/// </summary>
public class PendingOutputTests
{
    private sealed class Writer : IBaselineWriter
    {
        public bool Disposed { get; private set; }
        public bool IsProcessed(int chunk) => chunk == 0;
        public void WriteLogits(int chunk, int firstPosition, ReadOnlySpan<float> logits) { }
        public void MarkProcessed(int chunk) { }
        public bool Complete(int from, int to) => true;
        public void Dispose() => Disposed = true;
    }

    [Fact]
    public void An_existing_output_is_opened_before_start_returns()
    {
        Writer? made = null;
        using var output = PendingOutput.Start(() => made = new Writer(), fresh: false);
        Assert.NotNull(made);
        Assert.False(output.Fresh);
        Assert.True(output.IsProcessed(0));
        Assert.Same(made, output.Writer);
    }

    [Fact]
    public void A_fresh_output_is_created_alongside_and_holds_no_chunk_until_joined()
    {
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        Writer? made = null;
        var output = PendingOutput.Start(() => { started.Set(); release.Wait(); return made = new Writer(); }, fresh: true);
        Assert.True(output.Fresh);
        // The creation runs while this thread goes on (it has not asked for the writer yet).
        Assert.True(started.Wait(TimeSpan.FromMinutes(1)), "the creation did not start on its own");
        Assert.False(output.IsProcessed(0));
        release.Set();
        var writer = Assert.IsType<Writer>(output.Writer);
        Assert.Same(made, writer);
        output.Dispose();
        Assert.True(writer.Disposed);
    }

    [Fact]
    public void A_failed_creation_is_rethrown_unchanged_where_the_writer_is_first_needed()
    {
        var output = PendingOutput.Start(() => throw GgufOptimizeException.Runtime("not enough disk space for baseline logits 'x.h5'"), fresh: true);
        var e = Assert.Throws<GgufOptimizeException>(() => output.Writer);
        Assert.Equal("not enough disk space for baseline logits 'x.h5'", e.Message);
        Assert.Equal(FailureKind.Runtime, e.Kind);
        output.Dispose();
    }

    [Fact]
    public async Task A_run_that_fails_before_storing_waits_for_the_creation_and_closes_what_it_made()
    {
        using var release = new ManualResetEventSlim();
        Writer? made = null;
        var output = PendingOutput.Start(() => { release.Wait(); return made = new Writer(); }, fresh: true);
        var disposing = Task.Run(output.Dispose);
        Assert.NotSame(disposing, await Task.WhenAny(disposing, Task.Delay(100)));
        release.Set();
        await disposing;
        Assert.True(made!.Disposed);

        var failing = PendingOutput.Start(() => throw new IOException("disk gone"), fresh: true);
        failing.Dispose(); // the run's own exception is the one reported; this one is not thrown over it
    }
}
