using System.Collections.Concurrent;
using System.Text;

namespace GgufOptimize.Common;

/// <summary>
/// An exclusive claim on an output (a file or a work folder) for the length of a run, so a second process writing
/// the same output is refused at once instead of corrupting it. The claim is an OS record lock on
/// <c>OUTPUT.lock</c>: the kernel drops it when the process dies (kill -9 included), so a stale lock file never
/// blocks the next run.
/// </summary>
/// <remarks>
/// A record lock (<see cref="FileStream.Lock"/>, fcntl on Unix) rather than <see cref="FileShare.None"/> (flock),
/// because a refused process must still be able to read who holds the lock in order to name it. Record locks do not
/// exclude threads of one process, so claims inside this process are also kept in a set. The lock file is deleted
/// on release; a process that locked a file which was deleted in the meantime notices it through /proc and tries
/// again.
/// </remarks>
internal sealed class OutputLock : IDisposable
{
    private static readonly ConcurrentDictionary<string, byte> HeldHere = new(StringComparer.Ordinal);

    private readonly FileStream _file;
    private readonly string _lockPath;
    private readonly string _key;
    private bool _released;

    private OutputLock(FileStream file, string lockPath, string key)
    {
        _file = file;
        _lockPath = lockPath;
        _key = key;
    }

    /// <summary>The lock file that guards <paramref name="output"/>.</summary>
    public static string LockPathOf(string output) => Path.GetFullPath(output).TrimEnd(Path.DirectorySeparatorChar) + ".lock";

    /// <summary>
    /// Claims <paramref name="output"/> or throws a bad-input error naming the process that holds it.
    /// <paramref name="option"/> names the option the output came from, for the message.
    /// </summary>
    public static OutputLock Acquire(string output, string option)
    {
        string lockPath = LockPathOf(output);
        string dir = Path.GetDirectoryName(lockPath)!;
        try
        {
            // A work folder's parent is created as the folder itself would be; file outputs were checked before.
            FileStep.CreateDirectory(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw GgufOptimizeException.BadInput($"{option}: cannot create '{dir}' ({e.Message})");
        }
        if (!HeldHere.TryAdd(lockPath, 0))
            throw GgufOptimizeException.BadInput($"{option}: '{output}' is already being written by this process");
        try
        {
            for (int attempt = 0; ; attempt++)
            {
                var held = TryLock(lockPath, output, option);
                if (held is not null)
                {
                    // Held: no other live writer, so what a killed run of this output left behind can go.
                    AtomicFile.SweepStale(output);
                    return new OutputLock(held, lockPath, lockPath);
                }
                if (attempt >= 20) throw GgufOptimizeException.Runtime($"could not claim '{lockPath}': it keeps being replaced by other processes");
            }
        }
        catch
        {
            HeldHere.TryRemove(lockPath, out _);
            throw;
        }
    }

    /// <summary>The locked stream, or null when the file we locked was replaced under us (then the caller retries).</summary>
    private static FileStream? TryLock(string lockPath, string output, string option)
    {
        FileStream file;
        try
        {
            file = FileStep.Create(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw GgufOptimizeException.BadInput($"{option}: cannot create the lock file '{lockPath}' ({e.Message}); is the folder writable?");
        }
        try
        {
            try
            {
                // .NET has no byte-range locks on macOS (PlatformNotSupportedException): there the claim is not exclusive.
                if (!OperatingSystem.IsMacOS()) file.Lock(0, 1);
            }
            catch (IOException)
            {
                throw GgufOptimizeException.BadInput(
                    $"{option}: '{output}' is being written by another process ({Describe(ReadHolder(file))}); wait for it to finish or stop it, then run again");
            }
            string token = $"pid {Environment.ProcessId}, started {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss} UTC: {CommandLine()}";
            byte[] bytes = Encoding.UTF8.GetBytes(token);
            file.SetLength(0);
            file.Write(bytes);
            file.Flush();
            if (!StillAt(lockPath, file))
            {
                file.Dispose();
                return null;
            }
            FileStep.Locked(lockPath);
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Whether the file we locked is still the one at <paramref name="lockPath"/> (a releasing holder deletes it).
    /// Asked of /proc through the descriptor's link, never by opening the path: closing any other descriptor of the
    /// file would drop this process's record lock.
    /// </summary>
    private static bool StillAt(string lockPath, FileStream file)
    {
        var link = new FileInfo($"/proc/self/fd/{file.SafeFileHandle.DangerousGetHandle().ToInt64()}");
        string? target;
        try { target = link.LinkTarget; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { target = null; }
        // Without /proc (not Linux) the check is skipped: the window it closes is a release racing two new claims.
        return target is null || string.Equals(target, lockPath, StringComparison.Ordinal);
    }

    private static string ReadHolder(FileStream file)
    {
        try
        {
            file.Position = 0;
            var buffer = new byte[4096];
            int read = file.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            return Encoding.UTF8.GetString(buffer, 0, read).Trim();
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static string Describe(string holder) => holder.Length > 0 ? holder : "process unknown";

    private static string CommandLine()
    {
        var args = Environment.GetCommandLineArgs();
        // Under `dotnet gguf-optimize.dll …` the first argument is the dll; the command a user typed is what follows.
        var shown = args.Length > 0 && args[0].EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
            ? args.Skip(1).Prepend(Path.GetFileNameWithoutExtension(args[0]))
            : args.Select((a, i) => i == 0 ? Path.GetFileName(a) : a);
        string line = string.Join(' ', shown);
        return line.Length > 300 ? line[..300] + "…" : line;
    }

    /// <summary>Deletes the lock file while still holding it, then releases the lock.</summary>
    public void Dispose()
    {
        if (_released) return;
        _released = true;
        AtomicFile.TryDelete(_lockPath);
        _file.Dispose();
        HeldHere.TryRemove(_key, out _);
    }
}
