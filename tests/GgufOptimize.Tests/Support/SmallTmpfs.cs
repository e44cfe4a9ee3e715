using System.Diagnostics;

namespace GgufOptimize.Tests.Support;

/// <summary>A small tmpfs to simulate a full disk (mounting needs root; tests skip without it).</summary>
public sealed class SmallTmpfs : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("ggufopt-tmpfs-").FullName;
    private bool _mounted;

    /// <summary>Mounts it with <paramref name="size"/> (e.g. "12M"); false when this process may not mount.</summary>
    public bool Mount(string size)
    {
        var p = Process.Start(new ProcessStartInfo("mount", $"-t tmpfs -o size={size} tmpfs {Path}") { RedirectStandardError = true, UseShellExecute = false })!;
        p.WaitForExit();
        _mounted = p.ExitCode == 0;
        return _mounted;
    }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (_mounted) Process.Start("umount", Path)!.WaitForExit();
        Directory.Delete(Path, recursive: true);
    }
}
