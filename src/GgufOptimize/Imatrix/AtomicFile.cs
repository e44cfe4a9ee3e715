using GgufOptimize.Common;

namespace GgufOptimize.Imatrix;

/// <summary>Writes a file under a temporary name and renames it into place only once it is complete.</summary>
internal static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string? dir = Path.GetDirectoryName(full);
        if (dir is not null && !Directory.Exists(dir)) throw GgufOptimizeException.BadInput($"output folder '{dir}' does not exist (for '{path}')");
        string partial = full + ".partial";
        try
        {
            using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(file);
                file.Flush(flushToDisk: true);
            }
            File.Move(partial, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(partial); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>Creates the folder if needed and proves a file can be written there, before any long work starts.</summary>
    public static void EnsureWritableFolder(string folder, string what)
    {
        try
        {
            Directory.CreateDirectory(folder);
            string probe = Path.Combine(folder, $".gguf-optimize-write-test-{Environment.ProcessId}-{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw GgufOptimizeException.BadInput($"{what} '{folder}' is not writable: {e.Message}");
        }
    }
}
