namespace GgufOptimize.Common;

/// <summary>Small files that are either complete or absent: written under a temporary name, then renamed.</summary>
internal static class AtomicFile
{
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        string temp = TempName(path);
        try
        {
            using (var stream = FileStep.Create(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                FileStep.Wrote(temp);
                FileStep.Sync(stream);
            }
            FileStep.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Streams a file into place: <paramref name="write"/> fills a temporary file that is renamed only when complete.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir)) throw GgufOptimizeException.BadInput($"output folder '{dir}' does not exist (for '{path}')");
        string temp = TempName(full);
        try
        {
            using (var file = FileStep.Create(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(file);
                FileStep.Wrote(temp);
                FileStep.Sync(file);
            }
            FileStep.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>A sibling name that no other writer picks and that readers never mistake for the real file.</summary>
    public static string TempName(string path) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $"{TempStem(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");

    /// <summary>The part of a temporary name that comes from the file's own name: a dot, then the name, cut to fit.</summary>
    private static string TempStem(string path)
    {
        string name = Path.GetFileName(path);
        // The unique part is 45 bytes; a long name is cut (by whole characters) so the temporary name stays legal.
        const int budget = OutputPaths.MaxNameBytes - 50;
        while (System.Text.Encoding.UTF8.GetByteCount(name) > budget) name = name[..^(char.IsLowSurrogate(name[^1]) && name.Length > 1 ? 2 : 1)];
        return "." + name;
    }

    /// <summary>Removes a leftover (a temporary file after a failure); one that cannot be removed is left alone.</summary>
    public static void TryDelete(string path)
    {
        try { FileStep.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>
    /// Deletes the temporary files a killed run left next to <paramref name="output"/> (and inside it, when it is a
    /// work folder): names made by <see cref="TempName"/> for this output whose process is gone. A live writer's
    /// temporary files are never touched, so this is safe even before the output's lock is held.
    /// </summary>
    public static void SweepStale(string output)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(output));
        string? dir = Path.GetDirectoryName(full);
        if (dir is null || !Directory.Exists(dir)) return;
        // Work files of the output (NAME.partial, NAME.partial.done, NAME.parts) share its name as a prefix.
        // A temporary file made inside another one's name (.NAME.….tmp) starts with more than one dot.
        string stem = TempStem(full).TrimStart('.');
        foreach (var file in SafeEnumerate(dir, ".*.tmp", SearchOption.TopDirectoryOnly))
            if (Path.GetFileName(file).TrimStart('.').StartsWith(stem, StringComparison.Ordinal)) DeleteIfStale(file);
        if (Directory.Exists(full))
            foreach (var file in SafeEnumerate(full, ".*.tmp", SearchOption.AllDirectories)) DeleteIfStale(file);
    }

    private static IEnumerable<string> SafeEnumerate(string dir, string pattern, SearchOption option)
    {
        try { return Directory.GetFiles(dir, pattern, option); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
    }

    private static void DeleteIfStale(string file)
    {
        var match = System.Text.RegularExpressions.Regex.Match(Path.GetFileName(file), @"\.(\d+)\.[0-9a-f]{32}\.tmp$");
        if (!match.Success || !int.TryParse(match.Groups[1].ValueSpan, out int pid)) return;
        if (pid == Environment.ProcessId || IsAlive(pid)) return;
        TryDelete(file);
    }

    /// <summary>Whether a process with that id runs (Linux: /proc; elsewhere assume yes, so nothing live is deleted).</summary>
    private static bool IsAlive(int pid) => !Directory.Exists("/proc/self") || Directory.Exists($"/proc/{pid}");
}
