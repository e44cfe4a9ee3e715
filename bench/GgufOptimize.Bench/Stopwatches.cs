using System.Diagnostics;

namespace GgufOptimize.Bench;

/// <summary>Repeats a body and reports the best and median wall time (best is the least disturbed by other load).</summary>
public static class Stopwatches
{
    public readonly record struct Timing(double BestSeconds, double MedianSeconds);

    public static Timing Measure(Action body, int repetitions)
    {
        body(); // warm-up: JIT tiering, page faults
        var times = new double[repetitions];
        for (int r = 0; r < repetitions; r++)
        {
            long start = Stopwatch.GetTimestamp();
            body();
            times[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        Array.Sort(times);
        return new Timing(times[0], times[repetitions / 2]);
    }
}
