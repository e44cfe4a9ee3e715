using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Storage.Hdf5;

namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>Builds the final compact HDF5 file from the chunks of a <see cref="CompactLog"/> (and reads them back into one).</summary>
internal static class CompactBaselineFile
{
    /// <summary>Writes the file at <paramref name="path"/>, atomically (<see cref="CompactFileBuild.WriteAtomically"/>).</summary>
    public static void Build(string path, BaselineHeader header, double tailMass, IChunkSource plan, CompactLog log)
    {
        int chunks = header.TotalChunks, n = header.ContextSize;
        var present = CompactFileBuild.PresentChunks(log, chunks);
        var chunk = new CompactChunk();
        var entryStart = new long[chunks];
        Array.Fill(entryStart, -1L);
        long entries = 0;
        foreach (int c in present)
        {
            log.Read(c, chunk);
            entryStart[c] = entries;
            entries += chunk.Entries;
        }

        var spec = new Hdf5FileSpec();
        var root = spec.Root;
        BaselineLogitsFile.SetProvenance(root, header, CompactLayout.FormatName);
        root.SetAttribute(CompactLayout.AttrTailMass, tailMass);
        root.SetAttribute(CompactLayout.AttrEncoding, CompactLayout.Encoding);
        CompactFileBuild.AddChunkIndex(root, header, plan, present);
        root.AddDataset("entry_start", H5ElementType.Int64, chunks).SetInitialData(entryStart);
        root.AddDataset("top_count", H5ElementType.Int32, chunks, n);
        root.AddDataset("tail_mass", H5ElementType.Float32, chunks, n);
        root.AddDataset("log_norm", H5ElementType.Float64, chunks, n);
        root.AddDataset("next_logit", H5ElementType.Float32, chunks, n);
        root.AddDataset("top_ids", H5ElementType.Int32, entries);
        root.AddDataset("top_logits", H5ElementType.Float32, entries);

        CompactFileBuild.WriteAtomically(path, spec, (writer, layout) =>
        {
            foreach (int c in present)
            {
                log.Read(c, chunk);
                if (chunk.Rows > n) throw GgufOptimizeException.Runtime($"compact working file '{log.Path}': chunk {c} has {chunk.Rows} rows, more than n_ctx {n}");
                long row = (long)c * n;
                writer.Write(layout.Dataset(CompactLayout.TopCount), row, chunk.Counts);
                writer.Write(layout.Dataset(CompactLayout.TailMass), row, chunk.TailMass);
                writer.Write(layout.Dataset(CompactLayout.LogNorm), row, chunk.LogNorm);
                writer.Write(layout.Dataset(CompactLayout.NextLogit), row, chunk.NextLogit);
                writer.Write(layout.Dataset(CompactLayout.TopIds), entryStart[c], chunk.Ids);
                writer.Write(layout.Dataset(CompactLayout.TopLogits), entryStart[c], chunk.Logits);
            }
        });
    }

    /// <summary>Copies every processed chunk of a final compact file into a new log (to add chunks to it).</summary>
    public static void CopyInto(string path, CompactLog log)
    {
        using var reader = CompactBaselineReader.Open(path);
        var chunk = new CompactChunk();
        for (int c = 0; c < reader.TotalChunks; c++)
        {
            if (!reader.HasChunk(c)) continue;
            reader.ReadChunk(c, chunk);
            log.Append(c, chunk);
        }
    }
}
