using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Storage.Hdf5;

namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>
/// The steps a compact-1 and a compact-2/3 file share when built from a <see cref="CompactLog"/>: which chunks go in,
/// the chunk index every reader checks first, and the write under a temporary name that makes the file appear whole
/// or not at all.
/// </summary>
internal static class CompactFileBuild
{
    /// <summary>The log's chunks that belong to the text, in file order (a log may hold a chunk past its end).</summary>
    public static int[] PresentChunks(CompactLog log, int totalChunks) =>
        log.Chunks.Where(c => c < totalChunks).OrderBy(c => c).ToArray();

    /// <summary>
    /// Adds <c>processed_chunks</c> and the chunk tokens. Both layouts add them right after their attributes and before
    /// their own datasets: the order fixes the file's bytes.
    /// </summary>
    public static void AddChunkIndex(Hdf5GroupSpec root, BaselineHeader header, IChunkSource plan, int[] present)
    {
        var flags = new byte[header.TotalChunks];
        foreach (int c in present) flags[c] = 1;
        root.AddDataset("processed_chunks", H5ElementType.Bool, header.TotalChunks).SetInitialData(flags);
        BaselineLogitsFile.AddTokens(root, header, plan);
    }

    /// <summary>
    /// Creates the file under a temporary name, lets <paramref name="fill"/> write its data, syncs it and renames it to
    /// <paramref name="path"/>; on failure the temporary file goes and <paramref name="path"/> is untouched.
    /// </summary>
    public static void WriteAtomically(string path, Hdf5FileSpec spec, Action<Hdf5DataWriter, Hdf5Layout> fill)
    {
        string temp = AtomicFile.TempName(path);
        var layout = Hdf5ContiguousFile.Create(temp, spec, new Hdf5CreateOptions { Overwrite = true });
        try
        {
            using (var writer = Hdf5DataWriter.Open(layout))
            {
                fill(writer, layout);
                writer.Flush();
            }
            FileStep.Move(temp, path, overwrite: true);
        }
        catch
        {
            AtomicFile.TryDelete(temp);
            throw;
        }
    }
}
