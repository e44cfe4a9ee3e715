using GgufOptimize.Common;
using PureHDF;
using PureHDF.Filters;
using PureHDF.Selections;
using PureHDF.VOL.Native;

namespace GgufOptimize.Storage.Formats;

/// <summary>
/// <c>logits --compression gzip</c>: rewrites a finished contiguous baseline as chunked + deflate HDF5 through PureHDF,
/// with the same datasets and attributes (h5py reads it; our reader goes through <see cref="PureHdfLogitsReader"/>).
/// HDF5 chunks are (1, m, n_vocab) rows with m·n_vocab·bytes ≤ 100 MB, as the Python tool lays them out.
/// Slow by design: the data passes through PureHDF's general write path and a deflate stream once more, and raw
/// float logits shrink only a little (their mantissas are noise to deflate), so contiguous storage stays the default.
/// </summary>
internal static class CompressedBaselineExport
{
    /// <summary>System.IO.Compression's fastest deflate (PureHDF maps levels onto .NET's few compression levels).</summary>
    public const int DeflateLevel = 1;
    private const long TargetChunkBytes = 100L * 1024 * 1024;

    public static void Write(string contiguousPath, string outputPath, IProgressSink progress)
    {
        using var source = BaselineLogitsReader.Open(contiguousPath);
        var h = source.Header;
        int chunks = h.TotalChunks, n = h.ContextSize, vocab = h.VocabSize, width = h.Precision / 8;
        uint rowsPerHdfChunk = (uint)Math.Clamp(TargetChunkBytes / ((long)vocab * width), 1, n);
        var creation = new H5DatasetCreation(Filters: [new H5Filter(Id: DeflateFilter.Id, Options: new() { [DeflateFilter.COMPRESSION_LEVEL] = DeflateLevel })]);
        ulong[] dims = [(ulong)chunks, (ulong)n, (ulong)vocab];
        uint[] chunkDims = [1, rowsPerHdfChunk, (uint)vocab];

        var processed = new bool[chunks];
        var index = new long[chunks];
        var tokens = new int[(long)chunks * n];
        Array.Fill(tokens, -1);
        var lengths = new int[chunks];
        for (int c = 0; c < chunks; c++)
        {
            processed[c] = source.HasChunk(c);
            index[c] = processed[c] ? c : -1;
            lengths[c] = source.ChunkLength(c);
            if (processed[c]) source.ChunkTokens(c).CopyTo(tokens, (long)c * n);
        }
        var file = new H5File
        {
            Attributes = new()
            {
                [BaselineLayout.AttrFormat] = BaselineLayout.FormatName,
                [BaselineLayout.AttrContext] = (long)n,
                [BaselineLayout.AttrVocab] = (long)vocab,
                [BaselineLayout.AttrTotalChunks] = (long)chunks,
                [BaselineLayout.AttrPrecision] = (long)h.Precision,
                [BaselineLayout.AttrModelFile] = h.Model.FileName,
                [BaselineLayout.AttrModelSize] = h.Model.Size,
                [BaselineLayout.AttrModelSha] = h.Model.Sha256,
                [BaselineLayout.AttrDatasetFile] = h.DatasetFile,
                [BaselineLayout.AttrDatasetSha] = h.DatasetSha256,
                [BaselineLayout.AttrTokenizerSha] = h.TokenizerSha256,
                [BaselineLayout.AttrAddBos] = h.AddBos,
                [BaselineLayout.AttrAddEos] = h.AddEos,
                [BaselineLayout.AttrChunkRule] = BaselineLayout.ChunkRule,
                [BaselineLayout.AttrEngine] = h.Engine ?? "",
                ["compression"] = $"deflate (System.IO.Compression level {DeflateLevel})",
            },
            ["processed_chunks"] = processed,
            ["chunk_index"] = index,
            ["freed_chunks"] = Array.Empty<long>(),
            ["tokens"] = new H5Dataset(tokens, fileDims: [(ulong)chunks, (ulong)n]),
            ["chunk_lengths"] = lengths,
        };

        string temp = AtomicFile.TempName(outputPath);
        try
        {
            if (h.Precision == 16) WriteRows<Half>(file, temp, dims, chunkDims, creation, source, (r, c) => r.ChunkLogitsHalf(c), progress);
            else WriteRows<float>(file, temp, dims, chunkDims, creation, source, (r, c) => r.ChunkLogits(c), progress);
            FileStep.Wrote(temp);
            using (var stream = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite)) FileStep.Sync(stream);
            FileStep.Move(temp, outputPath, overwrite: true);
        }
        catch
        {
            AtomicFile.TryDelete(temp);
            throw;
        }
    }

    private delegate ReadOnlySpan<T> RowsOf<T>(BaselineLogitsReader reader, int chunk);

    private static void WriteRows<T>(H5File file, string path, ulong[] dims, uint[] chunkDims, H5DatasetCreation creation,
        BaselineLogitsReader source, RowsOf<T> rows, IProgressSink progress) where T : unmanaged
    {
        var logits = new H5Dataset<T[]>(fileDims: dims, chunks: chunkDims, datasetCreation: creation);
        file["logits"] = logits;
        int chunks = (int)dims[0], vocab = (int)dims[2];
        progress.Start("gzip", chunks);
        using (var writer = file.BeginWrite(path))
        {
            for (int c = 0; c < chunks; c++)
            {
                if (source.HasChunk(c))
                {
                    int length = source.ChunkLength(c);
                    writer.Write(logits, rows(source, c).ToArray(),
                        fileSelection: new HyperslabSelection(3, [(ulong)c, 0, 0], [1, (ulong)length, (ulong)vocab]));
                }
                progress.Report(c + 1);
            }
        }
        progress.Finish();
    }
}
