namespace GgufOptimize.Common;

/// <summary>Small files that are either complete or absent: written under a temporary name, then renamed.</summary>
internal static class AtomicFile
{
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        string temp = TempName(path);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
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
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(file);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>A sibling name that no other writer picks and that readers never mistake for the real file.</summary>
    public static string TempName(string path)
    {
        string name = Path.GetFileName(path);
        // The unique part is 45 bytes; a long name is cut (by whole characters) so the temporary name stays legal.
        const int budget = OutputPaths.MaxNameBytes - 50;
        while (System.Text.Encoding.UTF8.GetByteCount(name) > budget) name = name[..^(char.IsLowSurrogate(name[^1]) && name.Length > 1 ? 2 : 1)];
        return Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{name}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
    }

    /// <summary>Removes a leftover (a temporary file after a failure); one that cannot be removed is left alone.</summary>
    public static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
