using GgufOptimize.Chunking;
using GgufOptimize.Common;

namespace GgufOptimize.Storage.Formats;

/// <summary>
/// <c>logits --compression gzip</c>: the run writes the usual contiguous <c>NAME.partial</c> (fast, resumable), and only
/// when the range is complete is it rewritten as chunked + deflate HDF5 under the final name (<see cref="CompressedBaselineExport"/>).
/// A finished compressed file is not reopened for more chunks: extend an uncompressed file instead.
/// </summary>
internal sealed class CompressedBaselineWriter : IBaselineWriter
{
    private readonly string _path;
    private readonly BaselineLogitsFile? _inner;
    private readonly IProgressSink _progress;
    private readonly bool _lzf;

    private CompressedBaselineWriter(string path, BaselineLogitsFile? inner, IProgressSink progress, bool lzf)
    {
        _lzf = lzf;
        _path = path;
        _inner = inner;
        _progress = progress;
    }

    /// <param name="lzf">Compress with h5py's LZF filter instead of deflate.</param>
    public static CompressedBaselineWriter OpenOrCreate(string path, BaselineHeader header, IChunkSource plan, int from, int to, bool clobber, IProgressSink progress, bool lzf = false)
    {
        if (File.Exists(path))
        {
            string? why = null;
            try
            {
                using var existing = PureHdfLogitsReader.Open(path);
                if (existing.Header is not { } h) why = "is not a baseline logits file of this tool";
                else if (h.Difference(header) is { } diff) why = $"was made from {diff}";
                else if (Enumerable.Range(from, to - from).All(existing.HasChunk))
                {
                    // A run killed between writing the file and removing its working file leaves the latter behind.
                    FileStep.Delete(BaselineLayout.PartialPath(path));
                    return new CompressedBaselineWriter(path, null, progress, lzf);
                }
                else why = "is compressed and lacks chunks of the requested range (compressed files are not extended; write an uncompressed file to add chunks)";
            }
            catch (GgufOptimizeException e) { why = $"is not a compressed baseline file of this tool ({e.Message})"; }
            OutputReplacement.RefuseOrDelete(path, why, clobber, progress);
        }
        // The contiguous working file must not be mistaken for the final one: it keeps the .partial name until exported.
        return new CompressedBaselineWriter(path, BaselineLogitsFile.OpenOrCreate(path, header, plan, clobber, progress), progress, lzf);
    }

    public bool IsProcessed(int chunk) => _inner?.IsProcessed(chunk) ?? true;

    public void WriteLogits(int chunk, int firstPosition, ReadOnlySpan<float> logits) => _inner!.WriteLogits(chunk, firstPosition, logits);

    public void MarkProcessed(int chunk) => _inner!.MarkProcessed(chunk);

    public bool Complete(int from, int to)
    {
        if (_inner is null) return true;
        if (!_inner.IsComplete(from, to)) return false;
        _inner.Seal();
        _progress.Info($"compressing '{_inner.PartialPath}' into '{_path}' ({(_lzf ? "lzf" : "gzip is slow; see --compression")})");
        CompressedBaselineExport.Write(_inner.PartialPath, _path, _progress, _lzf);
        FileStep.Delete(_inner.PartialPath);
        return true;
    }

    public void Dispose() => _inner?.Dispose();
}
