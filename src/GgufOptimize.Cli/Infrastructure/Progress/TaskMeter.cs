using System.Diagnostics;
using System.Globalization;

namespace GgufOptimize.Cli.Infrastructure.Progress;

/// <summary>
/// The state of one progress task and how it reads to a user: done/total, tokens per second and ETA. Both the
/// terminal display and the plain log show these words, so they are formatted in one place. Thread-safe: worker
/// threads report while the display thread reads.
/// </summary>
internal sealed class TaskMeter(string description, long total)
{
    private readonly object _gate = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _firstDone = -1;
    private long _done;
    private long _tokens;

    public string Description { get; } = description;
    public long Total { get; } = total;

    /// <summary>A task of one unit (or an unknown number) has no fraction to show.</summary>
    public bool HasFraction => Total > 1;

    public long Done { get { lock (_gate) return _done; } }
    public bool Complete { get { lock (_gate) return Total > 0 && _done >= Total; } }

    public void Update(long done, long tokens)
    {
        lock (_gate)
        {
            // Work found already done (a resumed run) must not inflate the rate: the clock starts at the first report.
            if (_firstDone < 0) { _firstDone = done; _clock.Restart(); }
            _done = done;
            _tokens += tokens;
        }
    }

    /// <summary>"47/51, 2991 tok/s, ETA 3s": what follows the description and the bar.</summary>
    public string Details()
    {
        lock (_gate)
        {
            var c = CultureInfo.InvariantCulture;
            double secs = Math.Max(_clock.Elapsed.TotalSeconds, 1e-9);
            string text = Total > 0 ? $"{_done.ToString(c)}/{Total.ToString(c)}" : _done.ToString(c);
            if (_tokens > 0) text += $", {(_tokens / secs).ToString("F0", c)} tok/s";
            long doneHere = _done - Math.Max(_firstDone, 0);
            if (doneHere > 0 && Total > 0 && _done < Total)
                text += $", ETA {FormatTime(TimeSpan.FromSeconds(secs / doneHere * (Total - _done)))}";
            return text;
        }
    }

    /// <summary>One line of the plain log: "kld: 47/51 (92%), 2991 tok/s, ETA 3s".</summary>
    public string Line()
    {
        string details = Details();
        if (Total <= 0) return $"{Description}: {details}";
        int slash = details.IndexOf(',');
        string counts = slash < 0 ? details : details[..slash];
        string rest = slash < 0 ? "" : details[slash..];
        return $"{Description}: {counts} ({(100 * Math.Min(Done, Total) / Total).ToString(CultureInfo.InvariantCulture)}%){rest}";
    }

    internal static string FormatTime(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : t.TotalMinutes >= 1 ? $"{t.Minutes}m{t.Seconds:D2}s" : $"{t.Seconds}s";
}
