using System.Runtime.InteropServices;
using GgufOptimize.Engine;

namespace GgufOptimize.Tuning;

/// <summary>
/// The machine a tuning was measured on, recorded with it: the best batch and threads depend on the CPU (or GPU
/// build), the cores and the load at the time, so a tune.json read on another machine can be recognised as such.
/// </summary>
internal sealed record MachineDescription(string Cpu, int PhysicalCores, int LogicalProcessors, long MemoryBytes, string OperatingSystem,
    string Architecture, string NativeLibrary, string LoadAverage)
{
    public static MachineDescription Current() => new(
        CpuName(), Hardware.PhysicalCores, Environment.ProcessorCount, MemoryBytesTotal(), RuntimeInformation.OSDescription,
        RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant(), NativeRuntime.LibraryIdentity, Load());

    /// <summary>The "model name" of /proc/cpuinfo, or the architecture where there is none.</summary>
    private static string CpuName()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is int colon and > 0)
                    return line[(colon + 1)..].Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    private static long MemoryBytesTotal() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>/proc/loadavg at the start of the run ("" where there is none): other work on the machine skews every trial.</summary>
    private static string Load()
    {
        try { return File.ReadAllText("/proc/loadavg").Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }
}
