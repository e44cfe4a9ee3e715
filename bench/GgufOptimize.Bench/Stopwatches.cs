using System.Diagnostics;

namespace GgufOptimize.Bench;

/// <summary>
/// Repeats a body and reports the best and median wall time, and the best on-CPU time of the calling thread.
/// On a shared machine wall time includes waiting for a core; on-CPU time of a single-threaded body does not,
/// so it is the fairer rate then. On-CPU time comes from /proc/thread-self/schedstat (nanoseconds, Linux);
/// elsewhere it falls back to process CPU time.
/// </summary>
public static class Stopwatches
{
    public readonly record struct Timing(double BestSeconds, double MedianSeconds, double BestCpuSeconds);

    public static Timing Measure(Action body, int repetitions)
    {
        body(); // warm-up: JIT tiering, page faults
        var wall = new double[repetitions];
        var cpu = new double[repetitions];
        for (int r = 0; r < repetitions; r++)
        {
            double cpuStart = ThreadCpuSeconds();
            long start = Stopwatch.GetTimestamp();
            body();
            wall[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            cpu[r] = ThreadCpuSeconds() - cpuStart;
        }
        Array.Sort(wall);
        return new Timing(wall[0], wall[repetitions / 2], cpu.Min());
    }

    private static double ThreadCpuSeconds()
    {
        const string SchedStat = "/proc/thread-self/schedstat";
        if (File.Exists(SchedStat))
        {
            var first = File.ReadAllText(SchedStat).Split(' ')[0];
            return long.Parse(first, System.Globalization.CultureInfo.InvariantCulture) / 1e9;
        }
        var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime.TotalSeconds;
    }
}
