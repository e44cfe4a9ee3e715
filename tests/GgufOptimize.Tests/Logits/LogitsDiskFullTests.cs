using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Logits;

/// <summary>A full disk, simulated with a small tmpfs (needs root to mount; skipped otherwise).</summary>
public sealed class LogitsDiskFullTests : IDisposable
{
    private readonly SmallTmpfs _disk = new();
    private string _mount => _disk.Path;

    private bool Mount(string size) => _disk.Mount(size);

    public void Dispose() => _disk.Dispose();

    [Slow]
    [SkippableFact]
    public void A_full_disk_stops_with_one_error_line_and_the_same_command_resumes_once_space_is_freed()
    {
        string data = Path.Combine(_mount, "..", Path.GetFileName(_mount) + "-data.txt");
        File.WriteAllText(data, File.ReadAllText(SharedAssets.AidreamsText)[..6000]);
        try
        {
            Skip.IfNot(Mount("12M"), "mounting a tmpfs needs root; skipped");
            string output = Path.Combine(_mount, "base.h5");
            string[] Args(params string[] extra) => ["logits", "-m", SharedAssets.AidreamsModel, "-d", data, "-o", output, "-q", "--format", "full", .. extra];

            // Too little space for the whole file: refused before any work, nothing written.
            File.WriteAllBytes(Path.Combine(_mount, "filler"), new byte[8 << 20]);
            var refused = CliProcess.Run(Args());
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("not enough disk space", refused.Stderr);
            Assert.Single(refused.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.False(File.Exists(output) || File.Exists(output + ".partial"));
            File.Delete(Path.Combine(_mount, "filler"));

            // The disk fills up while the run is writing (the file is sparse; the check passed at the start).
            Assert.Equal(0, CliProcess.Run(Args("--to-chunk", "2")).ExitCode);
            File.WriteAllBytes(Path.Combine(_mount, "filler"), new byte[(int)(new DriveInfo(_mount).AvailableFreeSpace - (1 << 20))]);
            var full = CliProcess.Run(Args());
            Assert.Equal(1, full.ExitCode);
            var lines = full.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Single(lines);
            Assert.Contains("base.h5", lines[0]);
            Assert.False(File.Exists(output), "a failed run left a file under the final name");
            Assert.True(File.Exists(output + ".partial"));

            File.Delete(Path.Combine(_mount, "filler"));
            var resumed = CliProcess.Run(Args());
            Assert.Equal(0, resumed.ExitCode);
            Assert.True(File.Exists(output));
        }
        finally
        {
            File.Delete(data);
        }
    }
}
