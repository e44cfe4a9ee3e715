using GgufOptimize.Chunking;
using GgufOptimize.Common;

namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>
/// The life of a compact baseline's working log, shared by compact-1 and compact-2/3: rows arrive in order and are
/// encoded at once, each finished chunk is appended to <c>NAME.partial</c> (synced, checksummed), and the HDF5 file is
/// built under the final name once the requested range is complete. A subclass says only how rows are encoded, what a
/// chunk's record is and how the final file is laid out.
/// </summary>
internal abstract class CompactLogWriter : IBaselineWriter
{
    private readonly CompactLog _log;
    private int _currentChunk = -1, _rows;
    private int[] _currentTokens = [];
    private bool _closed;

    protected string Path { get; }
    protected BaselineHeader Header { get; }
    protected IChunkSource Plan { get; }

    protected CompactLogWriter(string path, BaselineHeader header, IChunkSource plan, CompactLog log)
    {
        Path = path;
        Header = header;
        Plan = plan;
        _log = log;
    }

    /// <summary>
    /// The log to continue for <paramref name="path"/>: a finished file made from the same inputs goes back into a fresh
    /// log (it returns at completion), a working log of the same <paramref name="identity"/> is resumed, anything else
    /// is refused (or deleted with <paramref name="clobber"/>).
    /// </summary>
    /// <param name="describeFinalMismatch">Why the finished file at a path was made from other inputs, or null when it was not.</param>
    /// <param name="describeIdentityMismatch">How a working log's stored identity differs from this run's.</param>
    /// <param name="copyInto">Copies a finished file's chunks into a log.</param>
    protected static CompactLog OpenLog(string path, string identity, Func<string, string?> describeFinalMismatch,
        Func<string, string> describeIdentityMismatch, Action<string, CompactLog> copyInto, bool clobber, IProgressSink progress)
    {
        string partial = BaselineLayout.PartialPath(path);
        if (File.Exists(path))
        {
            string? why = describeFinalMismatch(path);
            if (why is null)
            {
                var log = CompactLog.Create(partial, identity);
                copyInto(path, log);
                FileStep.Delete(path);
                return log;
            }
            OutputReplacement.RefuseOrDelete(path, why, clobber, progress);
        }
        if (File.Exists(partial))
        {
            string? existing = CompactLog.ReadIdentity(partial);
            if (existing == identity) return CompactLog.Open(partial);
            OutputReplacement.RefuseOrDelete(partial, existing is null ? "is not a compact baseline working file" : $"was made from other inputs ({describeIdentityMismatch(existing)})", clobber, progress);
        }
        return CompactLog.Create(partial, identity);
    }

    /// <summary>Forgets any half-encoded chunk: a new one begins.</summary>
    protected abstract void StartChunk();

    /// <summary>Encodes one row; <paramref name="nextToken"/> is the token that follows it, or −1 at the chunk's end.</summary>
    protected abstract void EncodeRow(ReadOnlySpan<float> row, int nextToken);

    /// <summary>Appends the completely encoded current chunk to the log as one record.</summary>
    protected abstract void AppendChunk(CompactLog log, int chunk);

    /// <summary>Builds the final file at <see cref="Path"/> from every chunk of the log (atomically).</summary>
    protected abstract void BuildFile(CompactLog log);

    public bool IsProcessed(int chunk) => _log.Has(chunk);

    public void WriteLogits(int chunk, int firstPosition, ReadOnlySpan<float> logits)
    {
        int n = Header.VocabSize;
        if (chunk != _currentChunk)
        {
            StartChunk();
            _currentChunk = chunk;
            _rows = 0;
            _currentTokens = Plan.Chunk(chunk);
        }
        // Each row's record needs the token after it, and a chunk is appended whole: rows must come in order.
        if (firstPosition != _rows)
            throw new InvalidOperationException($"compact encoding needs the rows of chunk {chunk} in order: expected position {_rows}, got {firstPosition}");
        int rows = logits.Length / n;
        for (int r = 0; r < rows; r++)
        {
            int j = firstPosition + r;
            EncodeRow(logits.Slice(r * n, n), j + 1 < _currentTokens.Length ? _currentTokens[j + 1] : -1);
        }
        _rows += rows;
    }

    public void MarkProcessed(int chunk)
    {
        if (chunk != _currentChunk || _rows != Plan.ChunkLength(chunk))
            throw new InvalidOperationException($"chunk {chunk} is not completely encoded");
        try
        {
            AppendChunk(_log, chunk);
        }
        catch (IOException e)
        {
            throw GgufOptimizeException.Runtime($"writing chunk {chunk} to '{_log.Path}' failed: {e.Message} (the file is kept; rerun the same command after fixing this to resume)", e);
        }
        _currentChunk = -1;
    }

    public bool Complete(int from, int to)
    {
        for (int c = from; c < to; c++) if (!_log.Has(c)) return false;
        BuildFile(_log);
        Close();
        FileStep.Delete(_log.Path);
        return true;
    }

    public void Dispose() => Close();

    private void Close()
    {
        if (_closed) return;
        _closed = true;
        _log.Dispose();
    }
}
