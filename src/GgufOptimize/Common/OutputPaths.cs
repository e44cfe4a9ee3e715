namespace GgufOptimize.Common;

/// <summary>Checks made before long work starts, so a bad output location fails in the first second.</summary>
internal static class OutputPaths
{
    /// <summary>The output's folder must exist and accept a new file; <paramref name="option"/> names the option in errors.</summary>
    public static void EnsureWritableDirectory(string outputPath, string option)
    {
        if (Directory.Exists(outputPath))
            throw GgufOptimizeException.BadInput($"{option}: '{outputPath}' is a directory; give a file name (e.g. '{Path.Combine(outputPath, "out.h5")}')");
        EnsureNameFits(outputPath, option);
        string dir = Path.GetDirectoryName(Path.GetFullPath(outputPath))!;
        if (!Directory.Exists(dir)) throw GgufOptimizeException.BadInput($"{option}: directory '{dir}' does not exist");
        // Named like the output's temporary files, so one left by a kill is swept with them (AtomicFile.SweepStale).
        string probe = AtomicFile.TempName(outputPath);
        try
        {
            using (File.Create(probe, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw GgufOptimizeException.BadInput($"{option}: directory '{dir}' is not writable ({e.Message})");
        }
    }

    /// <summary>
    /// The longest suffix this tool adds to an output's name for its work files (<c>.partial.done</c>, <c>.lock</c>,
    /// <c>.parts</c>); a name that leaves no room for it would fail only after the work.
    /// </summary>
    public const int LongestWorkSuffix = 16;

    /// <summary>Most file systems cap one name at 255 bytes.</summary>
    public const int MaxNameBytes = 255;

    /// <summary>Refuses an output name too long to carry the suffixes of its work files.</summary>
    public static void EnsureNameFits(string outputPath, string option)
    {
        int bytes = System.Text.Encoding.UTF8.GetByteCount(Path.GetFileName(Path.TrimEndingDirectorySeparator(outputPath)));
        if (bytes + LongestWorkSuffix > MaxNameBytes)
            throw GgufOptimizeException.BadInput($"{option}: the name '{Path.GetFileName(outputPath)}' is {bytes} bytes long; use at most {MaxNameBytes - LongestWorkSuffix} (the tool adds up to {LongestWorkSuffix} for its work files)");
    }

    /// <summary>Creates the folder if needed and proves a file can be written there, before any long work starts.</summary>
    public static void EnsureWritableFolder(string folder, string what)
    {
        if (File.Exists(folder)) throw GgufOptimizeException.BadInput($"{what} '{folder}' is a file; give a folder");
        EnsureNameFits(folder, what);
        try
        {
            FileStep.CreateDirectory(folder);
            string probe = AtomicFile.TempName(Path.Combine(folder, "write-test"));
            using (File.Create(probe, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw GgufOptimizeException.BadInput($"{what} '{folder}' is not writable: {e.Message}");
        }
    }

    /// <summary>Free bytes on the disk that would hold <paramref name="outputPath"/>, or null when the system cannot say.</summary>
    public static long? FreeBytes(string outputPath)
    {
        try { return new DriveInfo(Path.GetDirectoryName(Path.GetFullPath(outputPath))!).AvailableFreeSpace; }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>Fails early when the disk cannot hold <paramref name="bytes"/> more.</summary>
    public static void EnsureFreeSpace(string outputPath, long bytes, string what)
    {
        if (FreeBytes(outputPath) is not long free) return;
        if (free < bytes)
            throw GgufOptimizeException.Runtime($"not enough disk space for {what} '{outputPath}': needs {Units.Bytes(bytes)}, {Units.Bytes(free)} free");
    }
}
