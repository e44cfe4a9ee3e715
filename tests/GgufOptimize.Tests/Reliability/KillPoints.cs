using System.Diagnostics;
using System.Text;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Reliability;

/// <summary>
/// Drives a command through the test hook <c>GGUF_OPTIMIZE_KILL_AT</c> (see <c>Common/FileStep.cs</c>): lists the
/// file-system steps of one uninterrupted run, then for each step label kills a fresh run with SIGKILL right after
/// its first occurrence (and after its last, when it occurs more than once), reruns the same command without
/// --overwrite, and checks that the rerun exits 0 and leaves exactly the files of the uninterrupted run, with the
/// same bytes. Every run works in its own folder with relative output paths, so equal bytes also show that
/// outputs do not depend on the folder they were made in.
/// </summary>
internal static class KillPoints
{
    /// <summary>A file the command writes whose bytes legitimately differ between runs, compared after <see cref="Normalize"/>.</summary>
    public sealed record Volatile(string RelativePath, Func<string, string> Normalize);

    public sealed record Report(int Steps, int Labels, int Kills);

    public static Report Check(string[] args, params Volatile[] volatileFiles) => Check(args, null, volatileFiles);

    /// <param name="prepare">Puts inputs that live inside the work folder in place before each run (null: none).</param>
    public static Report Check(string[] args, Action<string>? prepare, params Volatile[] volatileFiles)
    {
        using var root = new TempDir();
        string reference = Path.Combine(root.Path, "reference");
        Directory.CreateDirectory(reference);
        prepare?.Invoke(reference);
        string stepLog = Path.Combine(root.Path, "steps.tsv");
        var first = Run(reference, args, "list", stepLog);
        Assert.True(first.ExitCode == 0, $"uninterrupted run: exit {first.ExitCode}: {first.Stderr}");
        var steps = File.ReadAllLines(stepLog).Select(l => l.Split('\t')).Select(f => (Label: f[0], Occurrence: int.Parse(f[1]))).ToList();
        Assert.NotEmpty(steps);
        var expected = Snapshot(reference, volatileFiles);

        var targets = new List<string>();
        foreach (var group in steps.GroupBy(s => s.Label))
        {
            targets.Add($"{group.Key}@1");
            int last = group.Max(s => s.Occurrence);
            if (last > 1) targets.Add($"{group.Key}@{last}");
        }

        var failures = new List<string>();
        int n = 0;
        Parallel.ForEach(targets, new ParallelOptions { MaxDegreeOfParallelism = 2 }, target =>
        {
            string folder = Path.Combine(root.Path, $"k{Interlocked.Increment(ref n)}");
            Directory.CreateDirectory(folder);
            prepare?.Invoke(folder);
            string? failure = KillAndRerun(folder, args, target, expected, volatileFiles);
            if (failure is not null) lock (failures) failures.Add($"killed after '{target}': {failure}");
        });
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        return new Report(steps.Count, steps.Select(s => s.Label).Distinct().Count(), targets.Count);
    }

    private static string? KillAndRerun(string folder, string[] args, string target, Dictionary<string, string> expected, Volatile[] volatileFiles)
    {
        var killed = Run(folder, args, target, null);
        if (killed.ExitCode != 137) return $"the run was not killed (exit {killed.ExitCode}: {killed.Stderr.Trim()})";
        var rerun = Run(folder, args, null, null);
        if (rerun.ExitCode != 0) return $"the rerun failed (exit {rerun.ExitCode}: {rerun.Stderr.Trim()})";
        var actual = Snapshot(folder, volatileFiles);
        var extra = actual.Keys.Except(expected.Keys).ToList();
        var missing = expected.Keys.Except(actual.Keys).ToList();
        if (extra.Count > 0) return $"left behind {string.Join(", ", extra)}";
        if (missing.Count > 0) return $"missing {string.Join(", ", missing)}";
        var differing = expected.Keys.Where(k => expected[k] != actual[k]).ToList();
        return differing.Count > 0 ? $"differs from the uninterrupted run: {string.Join(", ", differing)}" : null;
    }

    /// <summary>Every file under the folder (relative path → SHA-256 of its bytes, or of its normalized text).</summary>
    private static Dictionary<string, string> Snapshot(string folder, Volatile[] volatileFiles)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories))
        {
            string rel = Path.GetRelativePath(folder, file);
            if (Directory.Exists(file)) { result[rel + "/"] = "dir"; continue; }
            var special = volatileFiles.FirstOrDefault(v => v.RelativePath == rel);
            byte[] bytes = special is null ? File.ReadAllBytes(file) : Encoding.UTF8.GetBytes(special.Normalize(File.ReadAllText(file)));
            result[rel] = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes));
        }
        return result;
    }

    /// <summary>Exit 137 means the child died of SIGKILL.</summary>
    private static CliProcess.Result Run(string folder, string[] args, string? killAt, string? stepLog)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(CliProcess.DllPath);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("GGUF_OPTIMIZE_KILL_AT");
        psi.Environment.Remove("GGUF_OPTIMIZE_STEP_LOG");
        if (killAt is not null) psi.Environment["GGUF_OPTIMIZE_KILL_AT"] = killAt;
        if (stepLog is not null) psi.Environment["GGUF_OPTIMIZE_STEP_LOG"] = stepLog;
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"gguf-optimize {string.Join(' ', args)} (kill at {killAt}) did not finish within 3 minutes");
        }
        process.WaitForExit();
        return new CliProcess.Result(process.ExitCode, stdout.Result, stderr.Result);
    }
}
