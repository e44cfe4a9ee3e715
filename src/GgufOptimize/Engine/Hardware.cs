namespace GgufOptimize.Engine;

/// <summary>Facts about this machine that choose defaults (llama.cpp runs best on physical cores).</summary>
internal static class Hardware
{
    private static readonly Lazy<int> Physical = new(CountPhysicalCores);

    public static int PhysicalCores => Physical.Value;

    /// <summary>
    /// Weights of per-token work that make one more llama.cpp thread pay off. llama.cpp splits every graph node over
    /// its threads and makes them all meet at a barrier after it; a tiny model's nodes take microseconds, so that
    /// meeting (and any thread the OS preempts meanwhile) costs more than the split saves. Measured in BENCHMARKS.md
    /// ("default threads").
    /// </summary>
    public const long ParametersPerThread = 4_000_000;

    /// <summary>The decode threads used when none are given (0): one per <see cref="ParametersPerThread"/> weights, 1 to the physical cores.</summary>
    public static int DefaultThreads(long parameterCount) => DefaultThreads(parameterCount, PhysicalCores);

    /// <summary><see cref="DefaultThreads(long)"/> for a machine with <paramref name="cores"/> physical cores.</summary>
    public static int DefaultThreads(long parameterCount, int cores) =>
        (int)Math.Clamp(parameterCount / ParametersPerThread, 1, Math.Max(1, cores));

    private static int CountPhysicalCores()
    {
        try
        {
            var cores = new HashSet<(string, string)>();
            string physicalId = "0";
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                int colon = line.IndexOf(':');
                if (colon < 0) continue;
                string key = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
                if (key == "physical id") physicalId = value;
                else if (key == "core id") cores.Add((physicalId, value));
            }
            if (cores.Count > 0) return Math.Min(cores.Count, Environment.ProcessorCount);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return Environment.ProcessorCount;
    }
}
