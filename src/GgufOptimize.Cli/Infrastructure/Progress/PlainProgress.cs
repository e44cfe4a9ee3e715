using GgufOptimize.Common;

namespace GgufOptimize.Cli.Infrastructure.Progress;

/// <summary>
/// Progress for logs and CI (stderr redirected, TERM=dumb, or --verbose where llama.cpp's own log shares stderr):
/// whole lines of any length, a line per task at most every two seconds plus its last state, no escape codes.
/// A task of one unit has nothing to count and prints nothing; a line equal to the one before is not repeated.
/// </summary>
internal sealed class PlainProgress(TextWriter writer) : IProgressSink
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    private readonly object _gate = new();
    private TaskMeter? _task;
    private DateTime _lastPrint;
    private string? _lastLine;
    private bool _completePrinted;

    public void Start(string description, long total)
    {
        lock (_gate)
        {
            EndTask();
            _task = new TaskMeter(description, total);
            _completePrinted = false;
            _lastPrint = DateTime.UtcNow;
        }
    }

    public void Report(long done, long tokens = 0)
    {
        lock (_gate)
        {
            if (_task is null) return;
            _task.Update(done, tokens);
            if (!_task.HasFraction) return;
            if (_task.Complete)
            {
                if (_completePrinted) return;
                _completePrinted = true;
            }
            else if (DateTime.UtcNow - _lastPrint < Interval) return;
            Print(_task.Line());
        }
    }

    public void Info(string message) { lock (_gate) Print(message); }

    public void Warn(string message) { lock (_gate) Print($"warning: {message}"); }

    public void Finish() { lock (_gate) EndTask(); }

    /// <summary>A task that ends short of its total (early stopping, an error) still leaves its last state in the log.</summary>
    private void EndTask()
    {
        if (_task is { HasFraction: true, Done: > 0 } && !_completePrinted) Print(_task.Line());
        _task = null;
    }

    private void Print(string line)
    {
        _lastPrint = DateTime.UtcNow;
        if (line == _lastLine) return;
        _lastLine = line;
        writer.WriteLine(line);
        writer.Flush();
    }
}
