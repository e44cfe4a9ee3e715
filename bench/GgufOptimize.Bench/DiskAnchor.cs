using System.Diagnostics;

namespace GgufOptimize.Bench;

/// <summary>The hardware anchor for write benchmarks: <c>dd</c> writing zeros with a final fdatasync on the same disk.</summary>
public static class DiskAnchor
{
    public static double DdWriteMBps(string directory, int megabytes)
    {
        string path = Path.Combine(directory, "dd-anchor.bin");
        try
        {
            var psi = new ProcessStartInfo("dd", $"if=/dev/zero of={path} bs=1M count={megabytes} conv=fdatasync")
            {
                RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
            };
            var clock = Stopwatch.StartNew();
            using var p = Process.Start(psi)!;
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"dd failed with exit code {p.ExitCode}");
            return megabytes * 1.048576 / clock.Elapsed.TotalSeconds;
        }
        finally
        {
            File.Delete(path);
        }
    }
}
