using GgufOptimize.Storage.Formats;

namespace GgufOptimize.Logits;

/// <summary>
/// The output writer of a <c>logits</c> run. An output that exists (final or partial) is opened at once — resumed,
/// refused or replaced exactly as before. A fresh one is created on a side task, which the run starts just before
/// llama.cpp's first decode and joins when the first rows are to be stored: creating a file is mostly first-use work
/// of the writer's code (40 ms for an HDF5 baseline, 80 ms for a compact one on a one-chunk run, BENCHMARKS.md), and
/// llama.cpp decodes a small model on one thread, so the other core is free meanwhile.
/// </summary>
internal sealed class PendingOutput : IDisposable
{
    private readonly Task<IBaselineWriter>? _creating;
    private IBaselineWriter? _writer;

    private PendingOutput(IBaselineWriter? writer, Task<IBaselineWriter>? creating)
    {
        _writer = writer;
        _creating = creating;
    }

    /// <summary>
    /// Opens the output with <paramref name="open"/>: now, or on a side task when <paramref name="fresh"/> (nothing
    /// exists that <paramref name="open"/> would resume, refuse or replace, so it only creates).
    /// </summary>
    public static PendingOutput Start(Func<IBaselineWriter> open, bool fresh) =>
        fresh ? new PendingOutput(null, Task.Run(open)) : new PendingOutput(open(), null);

    /// <summary>Whether the output was new and is (or was) created on the side task.</summary>
    public bool Fresh => _creating is not null;

    /// <summary>The writer; the first call waits for a fresh output's creation and rethrows its failure as it was thrown.</summary>
    public IBaselineWriter Writer => _writer ??= _creating!.GetAwaiter().GetResult();

    /// <summary>Whether <paramref name="chunk"/> is stored already: a fresh output being created holds none, so it is not waited for.</summary>
    public bool IsProcessed(int chunk) => _writer?.IsProcessed(chunk) ?? false;

    public void Dispose()
    {
        if (_writer is null && _creating is not null)
        {
            // The run failed (or was cancelled) before it stored anything: the creation is waited for so that it does not
            // outlive the run, and closed; its own failure, if any, is not the one to report.
            try { _writer = _creating.GetAwaiter().GetResult(); }
            catch (Exception) { /* the run's own exception is already on its way */ }
        }
        _writer?.Dispose();
    }
}
