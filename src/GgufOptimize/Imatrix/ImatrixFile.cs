using GgufOptimize.Common;
using GgufOptimize.Gguf;

namespace GgufOptimize.Imatrix;

/// <summary>Loads and saves importance matrices in either of llama.cpp's formats.</summary>
internal static class ImatrixFile
{
    /// <summary>llama-imatrix's default context, assumed for a legacy file when nothing better is known.</summary>
    public const int DefaultLegacyChunkSize = 512;

    /// <summary>
    /// Reads an imatrix, telling the format from the content (GGUF magic) rather than the file name.
    /// <paramref name="legacyChunkSize"/> rebuilds the counts a legacy .dat file does not store.
    /// </summary>
    public static ImportanceMatrix Load(string path, int legacyChunkSize = DefaultLegacyChunkSize)
    {
        var matrix = DetectFormat(path) == ImatrixFileFormat.Gguf
            ? ImatrixGgufFormat.Read(GgufFile.Read(path))
            : ImatrixLegacyFormat.Read(path, legacyChunkSize);
        RequireSane(matrix, path);
        return matrix;
    }

    /// <summary>Sums of squared activations are finite and never negative, counts never negative: anything else is corruption, not data.</summary>
    private static void RequireSane(ImportanceMatrix matrix, string path)
    {
        foreach (var e in matrix.Entries)
        {
            foreach (double v in e.Sums)
                if (!(v >= 0) || double.IsInfinity(v))
                    throw GgufOptimizeException.BadInput($"imatrix '{path}': entry '{e.Name}' holds the value {v}; sums of squared activations are finite and not negative (the file is corrupt)");
            foreach (long c in e.Counts)
                if (c < 0) throw GgufOptimizeException.BadInput($"imatrix '{path}': entry '{e.Name}' has a negative count {c} (the file is corrupt)");
        }
    }

    /// <summary>Writes atomically: the file appears under <paramref name="path"/> only when complete.</summary>
    public static void Save(ImportanceMatrix matrix, string path, ImatrixFileFormat format)
    {
        if (format == ImatrixFileFormat.Gguf) ImatrixGgufFormat.Write(matrix, path);
        else ImatrixLegacyFormat.Write(matrix, path, matrix.ChunkSize > 0 ? matrix.ChunkSize : DefaultLegacyChunkSize);
    }

    public static ImatrixFileFormat DetectFormat(string path)
    {
        if (Directory.Exists(path)) throw GgufOptimizeException.BadInput($"imatrix '{path}' is a directory");
        if (!File.Exists(path)) throw GgufOptimizeException.BadInput($"imatrix file '{path}' does not exist");
        Span<byte> head = stackalloc byte[4];
        try
        {
            using var f = File.OpenRead(path);
            int n = f.ReadAtLeast(head, 4, throwOnEndOfStream: false);
            if (n < 4) throw GgufOptimizeException.BadInput($"imatrix file '{path}' is too short ({n} bytes) to be an imatrix");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw GgufOptimizeException.BadInput($"imatrix file '{path}' cannot be read: {e.Message}");
        }
        return BitConverter.ToUInt32(head) == GgufFormat.Magic ? ImatrixFileFormat.Gguf : ImatrixFileFormat.Dat;
    }

    /// <summary>Parses "gguf" / "dat" (the --output-format values).</summary>
    public static ImatrixFileFormat ParseFormat(string text) => text.Trim().ToLowerInvariant() switch
    {
        "gguf" => ImatrixFileFormat.Gguf,
        "dat" => ImatrixFileFormat.Dat,
        _ => throw GgufOptimizeException.BadInput($"--output-format must be 'gguf' or 'dat' (got '{text}')"),
    };
}
