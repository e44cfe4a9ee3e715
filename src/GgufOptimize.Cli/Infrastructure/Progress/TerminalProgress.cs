using GgufOptimize.Common;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace GgufOptimize.Cli.Infrastructure.Progress;

/// <summary>
/// Progress on a terminal with Spectre.Console's own progress display: one live bar per task, left on screen as a
/// finished line when the task ends. Reports come from worker threads; every call takes one lock, and messages are
/// written through the same console so Spectre prints them above the live bar instead of through it.
/// <see cref="Dispose"/> ends a display still running (an error, Ctrl-C), which restores the cursor.
/// </summary>
internal sealed class TerminalProgress : IProgressSink, IDisposable
{
    private readonly object _gate = new();
    private readonly IAnsiConsole _console;
    private Display? _display;

    public TerminalProgress(IAnsiConsole console)
    {
        _console = console;
        // Last resort when the process ends with a display still live (a forced exit): never leave the cursor hidden.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { if (_display is not null) console.Cursor.Show(); };
    }

    public void Start(string description, long total)
    {
        lock (_gate)
        {
            EndDisplay();
            _display = Display.Begin(_console, new TaskMeter(description, total));
        }
    }

    public void Report(long done, long tokens = 0)
    {
        lock (_gate) _display?.Update(done, tokens);
    }

    public void Info(string message)
    {
        lock (_gate) _console.MarkupLine(Markup.Escape(message));
    }

    public void Warn(string message)
    {
        lock (_gate) _console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(message)}");
    }

    public void Finish()
    {
        lock (_gate) EndDisplay();
    }

    public void Dispose() => Finish();

    private void EndDisplay()
    {
        _display?.End();
        _display = null;
    }

    /// <summary>
    /// One Spectre progress display holding one task, alive from Start to Finish. It runs on its own thread, not the
    /// thread pool: ending it after Ctrl-C must not wait for a pool thread while the pool is busy or blocked.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001:Types that own disposable fields should be disposable",
        Justification = "The events are only Set/Wait (no wait handle is ever allocated, so nothing to free); disposing them could race the display thread.")]
    private sealed class Display
    {
        private readonly ManualResetEventSlim _started = new(), _ended = new();
        private readonly TaskMeter _meter;
        private volatile ProgressTask? _task;
        private Thread? _thread;
        private Exception? _failure;

        private Display(TaskMeter meter) => _meter = meter;

        public static Display Begin(IAnsiConsole console, TaskMeter meter)
        {
            var display = new Display(meter);
            var progress = console.Progress()
                // A one-unit task (planning, say) only shows that something runs, then leaves no line behind.
                .AutoClear(!meter.HasFraction)
                .HideCompleted(false)
                .ExcludeVerticalPadding(true)
                .Columns(
                    new TaskDescriptionColumn { Alignment = Justify.Left },
                    new ProgressBarColumn { Width = 30 },
                    new PercentageColumn(),
                    new DetailsColumn(meter),
                    new SpinnerColumn());
            display._thread = new Thread(() =>
            {
                try
                {
                    progress.Start(context =>
                    {
                        var task = context.AddTask(Markup.Escape(meter.Description), maxValue: Math.Max(meter.Total, 1));
                        task.IsIndeterminate = !meter.HasFraction;
                        display._task = task;
                        if (meter.HasFraction) task.Value = Math.Min(meter.Done, task.MaxValue);
                        display._started.Set();
                        display._ended.Wait();
                        if (meter.HasFraction) task.Value = Math.Min(meter.Done, task.MaxValue);
                        task.StopTask();
                    });
                }
                catch (Exception e) { display._failure = e; }
                finally { display._started.Set(); }
            }) { IsBackground = true, Name = "progress display" };
            display._thread.Start();
            display._started.Wait();
            return display;
        }

        public void Update(long done, long tokens)
        {
            _meter.Update(done, tokens);
            if (_task is { } task && _meter.HasFraction) task.Value = Math.Min(done, task.MaxValue);
        }

        /// <summary>Stops the display and waits until Spectre has drawn its last frame and shown the cursor again.</summary>
        public void End()
        {
            _ended.Set();
            _thread?.Join();
            if (_failure is not null) throw new InvalidOperationException($"the progress display failed: {_failure.Message}", _failure);
        }
    }

    /// <summary>"47/51, 2991 tok/s, ETA 3s", from the same words the plain log uses.</summary>
    private sealed class DetailsColumn(TaskMeter meter) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(meter.HasFraction ? meter.Details() : "", new Style(Color.Grey));
    }
}
