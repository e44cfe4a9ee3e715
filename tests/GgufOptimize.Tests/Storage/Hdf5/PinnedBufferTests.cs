using System.Globalization;
using GgufOptimize.Storage.Hdf5;

namespace GgufOptimize.Tests.Storage.Hdf5;

/// <summary>A write buffer large enough asks the kernel for transparent huge pages (cheaper first touch).</summary>
public class PinnedBufferTests
{
    [SkippableFact]
    public void A_large_buffer_is_marked_for_huge_pages_in_the_kernels_map()
    {
        const string Mode = "/sys/kernel/mm/transparent_hugepage/enabled";
        Skip.IfNot(OperatingSystem.IsLinux() && File.Exists(Mode), "needs Linux with transparent huge pages");
        Skip.If(File.ReadAllText(Mode).Contains("[never]", StringComparison.Ordinal), "transparent huge pages are off on this machine");

        var buffer = new PinnedBuffer(8 << 20);
        long middle = buffer.Address + (4 << 20);
        Assert.Contains("hg", FlagsOfMappingAt(middle));
        GC.KeepAlive(buffer);
    }

    /// <summary>The VmFlags of the mapping that holds <paramref name="address"/>, from /proc/self/smaps.</summary>
    private static string[] FlagsOfMappingAt(long address)
    {
        bool inside = false;
        foreach (string line in File.ReadLines("/proc/self/smaps"))
        {
            int dash = line.IndexOf('-');
            int space = line.IndexOf(' ');
            if (dash > 0 && space > dash && long.TryParse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long start)
                && long.TryParse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long end))
            {
                inside = start <= address && address < end;
                continue;
            }
            if (inside && line.StartsWith("VmFlags:", StringComparison.Ordinal))
                return line["VmFlags:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        }
        throw new InvalidOperationException($"no mapping holds 0x{address:x}");
    }
}
