namespace GgufOptimize.Engine;

/// <summary>Facts about this machine that choose defaults (llama.cpp runs best on physical cores).</summary>
public static class Hardware
{
    private static readonly Lazy<int> Physical = new(CountPhysicalCores);

    public static int PhysicalCores => Physical.Value;

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
