using System.Diagnostics;
using GgufOptimize.Common;
using Spectre.Console;

namespace GgufOptimize.Cli.Infrastructure;

/// <summary>
/// Progress on stderr: plain lines when stderr is redirected (logs, CI), a single rewritten
/// status line when it is a terminal. Shows done/total, tokens per second and ETA.
/// </summary>
internal sealed class StderrProgress : IProgressSink
{
    private readonly IAnsiConsole _console;
    private readonly bool _interactive;
    private readonly Stopwatch _clock = new();
    private string _description = "";
    private long _total;
    private long _startDone = -1;
    private long _tokens;
    private TimeSpan _lastPrint;
    private bool _lineOpen;

    private StderrProgress(IAnsiConsole console, bool interactive)
    {
        _console = console;
        _interactive = interactive;
    }

    public static StderrProgress Create()
    {
        bool interactive = !Console.IsErrorRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Console.Error),
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
        });
        return new StderrProgress(console, interactive);
    }

    public void Start(string description, long total)
    {
        EndLine();
        _description = description;
        _total = total;
        _startDone = -1;
        _tokens = 0;
        _clock.Restart();
        _lastPrint = TimeSpan.Zero;
    }

    public void Report(long done, long tokens = 0)
    {
        if (_startDone < 0) { _startDone = done; _clock.Restart(); }
        _tokens += tokens;
        var now = _clock.Elapsed;
        bool last = done >= _total;
        if (!last && now - _lastPrint < TimeSpan.FromMilliseconds(_interactive ? 200 : 2000)) return;
        _lastPrint = now;
        double secs = Math.Max(now.TotalSeconds, 1e-9);
        long doneHere = done - _startDone;
        string rate = _tokens > 0 ? $", {_tokens / secs:F0} tok/s" : "";
        string eta = doneHere > 0 && !last ? $", ETA {FormatTime(TimeSpan.FromSeconds(secs / doneHere * (_total - done)))}" : "";
        int pct = _total > 0 ? (int)(100 * done / _total) : 100;
        string text = $"{_description}: {done}/{_total} ({pct}%){rate}{eta}";
        if (_interactive)
        {
            int width = 24, filled = _total > 0 ? (int)(width * done / _total) : width;
            string bar = new string('━', filled) + new string('─', width - filled);
            _console.Markup($"\r[green]{bar}[/] {Markup.Escape(text)}\u001b[K");
            _lineOpen = true;
            if (last) EndLine();
        }
        else
        {
            _console.WriteLine(text);
        }
    }

    public void Info(string message) { EndLine(); _console.WriteLine(message); }

    public void Warn(string message)
    {
        EndLine();
        if (_interactive) _console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(message)}");
        else _console.WriteLine($"warning: {message}");
    }

    public void Finish() => EndLine();

    private void EndLine()
    {
        if (!_lineOpen) return;
        _console.WriteLine();
        _lineOpen = false;
    }

    private static string FormatTime(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : t.TotalMinutes >= 1 ? $"{t.Minutes}m{t.Seconds:D2}s" : $"{t.Seconds}s";
}

/// <summary>--quiet: warnings still reach stderr, progress does not.</summary>
internal sealed class QuietProgress : IProgressSink
{
    public void Start(string description, long total) { }
    public void Report(long done, long tokens = 0) { }
    public void Info(string message) { }
    public void Warn(string message) => Console.Error.WriteLine($"warning: {message}");
    public void Finish() { }
}
