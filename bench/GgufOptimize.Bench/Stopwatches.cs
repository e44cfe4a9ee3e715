using System.Diagnostics;

namespace GgufOptimize.Bench;

/// <summary>
/// Repeats a body and reports the best and median wall time, and the best process CPU time. On a shared machine
/// wall time includes waiting for a core; CPU time of a single-threaded body does not, so it is the fairer rate then.
/// </summary>
public static class Stopwatches
{
    public readonly record struct Timing(double BestSeconds, double MedianSeconds, double BestCpuSeconds);

    public static Timing Measure(Action body, int repetitions)
    {
        body(); // warm-up: JIT tiering, page faults
        var process = Process.GetCurrentProcess();
        var wall = new double[repetitions];
        var cpu = new double[repetitions];
        for (int r = 0; r < repetitions; r++)
        {
            process.Refresh();
            var cpuStart = process.TotalProcessorTime;
            long start = Stopwatch.GetTimestamp();
            body();
            wall[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            process.Refresh();
            cpu[r] = (process.TotalProcessorTime - cpuStart).TotalSeconds;
        }
        Array.Sort(wall);
        return new Timing(wall[0], wall[repetitions / 2], cpu.Min());
    }
}
