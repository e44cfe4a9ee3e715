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
internal sealed class TerminalProgress(IAnsiConsole console) : IProgressSink, IDisposable
{
    private readonly object _gate = new();
    private Display? _display;

    public void Start(string description, long total)
    {
        lock (_gate)
        {
            EndDisplay();
            _display = Display.Begin(console, new TaskMeter(description, total));
        }
    }

    public void Report(long done, long tokens = 0)
    {
        lock (_gate) _display?.Update(done, tokens);
    }

    public void Info(string message)
    {
        lock (_gate) console.MarkupLine(Markup.Escape(message));
    }

    public void Warn(string message)
    {
        lock (_gate) console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(message)}");
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

    /// <summary>One Spectre progress display holding one task, alive from Start to Finish.</summary>
    private sealed class Display
    {
        private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskMeter _meter;
        private volatile ProgressTask? _task;
        private Task _running = Task.CompletedTask;

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
            // The callback runs up to its first await right here, so the task exists when Begin returns.
            display._running = progress.StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape(meter.Description), maxValue: Math.Max(meter.Total, 1));
                task.IsIndeterminate = !meter.HasFraction;
                display._task = task;
                if (meter.HasFraction) task.Value = Math.Min(meter.Done, task.MaxValue);
                await display._ended.Task;
                task.Value = Math.Min(meter.Done, task.MaxValue);
                task.StopTask();
            });
            return display;
        }

        public void Update(long done, long tokens)
        {
            _meter.Update(done, tokens);
            if (_task is not null && _meter.HasFraction) _task.Value = Math.Min(done, _task.MaxValue);
        }

        /// <summary>Stops the display and waits until Spectre has drawn its last frame and shown the cursor again.</summary>
        public void End()
        {
            _ended.TrySetResult();
            _running.GetAwaiter().GetResult();
        }
    }

    /// <summary>"47/51, 2991 tok/s, ETA 3s", from the same words the plain log uses.</summary>
    private sealed class DetailsColumn(TaskMeter meter) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(meter.HasFraction ? meter.Details() : "", new Style(Color.Grey));
    }
}
