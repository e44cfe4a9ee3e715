using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace GgufOptimize.Common;

/// <summary>
/// The one place every file-system step of an output passes through (create, first write, sync, rename, delete,
/// make folder, lock), so that the test hook <c>GGUF_OPTIMIZE_KILL_AT</c> can stop the process with a real SIGKILL
/// right after any chosen step and prove that a rerun resumes from there (docs/testing.md, docs/reliability.md).
/// Without the variable every method is the plain .NET call plus one branch.
/// </summary>
internal static partial class FileStep
{
    /// <summary>Counts steps and kills the process at the chosen one; the whole hook is inert unless the variable is set.</summary>
    private static readonly KillTarget? Target = KillTarget.FromEnvironment();
    private static readonly Dictionary<string, int> Seen = new(StringComparer.Ordinal);
    private static int _count;

    /// <summary>Creates (or truncates) a file; the step is the file's appearance under its name.</summary>
    public static FileStream Create(string path, FileStreamOptions options)
    {
        var stream = new FileStream(path, options);
        Reached("create", path);
        return stream;
    }

    /// <summary>Creates a file with the usual <see cref="FileStream"/> arguments.</summary>
    public static FileStream Create(string path, FileMode mode, FileAccess access, FileShare share, int bufferSize = 4096, FileOptions options = FileOptions.None) =>
        Create(path, new FileStreamOptions { Mode = mode, Access = access, Share = share, BufferSize = bufferSize, Options = options });

    /// <summary>Marks that a file's first content (a header, a whole small file) has been handed to the OS.</summary>
    public static void Wrote(string path) => Reached("write", path);

    /// <summary>Flushes to the OS (and to the disk when <paramref name="toDisk"/>): the point a kill cannot undo.</summary>
    public static void Sync(FileStream stream, bool toDisk = true)
    {
        stream.Flush(flushToDisk: toDisk);
        Reached("sync", stream.Name);
    }

    /// <summary>Renames a file (atomically on one file system).</summary>
    public static void Move(string from, string to, bool overwrite)
    {
        File.Move(from, to, overwrite);
        Reached("rename", from, to);
    }

    /// <summary>Renames a folder.</summary>
    public static void MoveDirectory(string from, string to)
    {
        Directory.Move(from, to);
        Reached("rename", from, to);
    }

    /// <summary>Deletes a file (nothing when it is absent).</summary>
    public static void Delete(string path)
    {
        if (!File.Exists(path)) return;
        File.Delete(path);
        Reached("delete", path);
    }

    /// <summary>Deletes a folder and everything in it.</summary>
    public static void DeleteDirectory(string path)
    {
        if (!Directory.Exists(path)) return;
        Directory.Delete(path, recursive: true);
        Reached("delete", path);
    }

    /// <summary>Creates a folder (and its parents) when it is missing.</summary>
    public static void CreateDirectory(string path)
    {
        if (Directory.Exists(path)) return;
        Directory.CreateDirectory(path);
        Reached("mkdir", path);
    }

    /// <summary>Marks that an exclusive lock on <paramref name="path"/> is held.</summary>
    public static void Locked(string path) => Reached("lock", path);

    /// <summary>Marks a step taken outside .NET (llama.cpp writing a file), named by <paramref name="what"/>.</summary>
    public static void External(string what, string path) => Reached(what, path);

    private static void Reached(string op, string path, string? to = null)
    {
        if (Target is null) return;
        string label = to is null ? $"{op} {Role(path)}" : $"{op} {Role(path)} -> {Role(to)}";
        lock (Seen)
        {
            int occurrence = Seen[label] = Seen.GetValueOrDefault(label) + 1;
            int step = ++_count;
            if (Target.Log is { } log) File.AppendAllText(log, $"{label}\t{occurrence}\t{step}\t{path}\n");
            if (Target.Matches(label, occurrence, step)) KillSelf();
        }
    }

    /// <summary>
    /// A label that is the same in every run of a command: the file's name with the per-run parts of temporary names
    /// (process id, random suffix) and chunk numbers taken out, so a test can aim at "the first rename of X".
    /// </summary>
    internal static string Role(string path)
    {
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(path));
        // A temporary file built inside another temporary name carries two suffixes.
        for (string before = ""; before != name;) (before, name) = (name, TempSuffix().Replace(name, ".TMP"));
        return Digits().Replace(name, "#");
    }

    /// <summary>SIGKILL to ourselves: no finally block, no flush, no exit handler runs, exactly as under kill -9.</summary>
    private static void KillSelf()
    {
        if (OperatingSystem.IsWindows()) Environment.FailFast("GGUF_OPTIMIZE_KILL_AT");
        _ = Kill(Environment.ProcessId, 9);
        Thread.Sleep(Timeout.Infinite);
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [GeneratedRegex(@"\.\d+\.[0-9a-f]{32}\.tmp$")]
    private static partial Regex TempSuffix();

    [GeneratedRegex(@"\d{3,}")]
    private static partial Regex Digits();

    /// <summary>
    /// <c>GGUF_OPTIMIZE_KILL_AT</c>: <c>N</c> (the N-th step of the run), <c>LABEL</c> or <c>LABEL@K</c> (the K-th
    /// step with that label, default the first), or <c>list</c> (kill nothing). Each step is appended as
    /// "label, occurrence, step, path" (tab-separated) to the file named by <c>GGUF_OPTIMIZE_STEP_LOG</c> when set.
    /// </summary>
    private sealed record KillTarget(string? Label, int Occurrence, int Step, string? Log)
    {
        public static KillTarget? FromEnvironment()
        {
            string? at = Environment.GetEnvironmentVariable("GGUF_OPTIMIZE_KILL_AT");
            if (string.IsNullOrEmpty(at)) return null;
            string? log = Environment.GetEnvironmentVariable("GGUF_OPTIMIZE_STEP_LOG");
            if (string.IsNullOrEmpty(log)) log = null;
            if (at == "list") return new KillTarget(null, 0, 0, log);
            if (int.TryParse(at, out int step)) return new KillTarget(null, 0, step, log);
            int sep = at.LastIndexOf('@');
            if (sep > 0 && int.TryParse(at[(sep + 1)..], out int k)) return new KillTarget(at[..sep], k, 0, log);
            return new KillTarget(at, 1, 0, log);
        }

        public bool Matches(string label, int occurrence, int step) =>
            Label is null ? step == Step : Label == label && occurrence == Occurrence;
    }
}
