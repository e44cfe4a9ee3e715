using System.Globalization;
using System.Text.Json;
using GgufOptimize.Chunking;
using GgufOptimize.Common;

namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>
/// Writes a compact baseline: rows are encoded as they arrive (<see cref="CompactRowEncoder"/>), each finished chunk
/// is appended to the working log <c>NAME.partial</c> and synced, and the HDF5 file is built under the final name once
/// the requested range is complete. Reopening a finished file for more chunks copies it back into a log first.
/// </summary>
internal sealed class CompactBaselineWriter : IBaselineWriter
{
    private readonly string _path;
    private readonly BaselineHeader _header;
    private readonly IChunkSource _plan;
    private readonly CompactRowEncoder _encoder;
    private readonly CompactLog _log;
    private readonly CompactChunk _current = new();
    private int _currentChunk = -1;
    private int[] _currentTokens = [];
    private bool _closed;

    private CompactBaselineWriter(string path, BaselineHeader header, IChunkSource plan, double tailMass, CompactLog log)
    {
        _path = path;
        _header = header;
        _plan = plan;
        _encoder = new CompactRowEncoder(tailMass);
        _log = log;
    }

    public static CompactBaselineWriter OpenOrCreate(string path, BaselineHeader header, IChunkSource plan, double tailMass, bool clobber, IProgressSink progress)
    {
        if (!(tailMass > 0 && tailMass < 1)) throw GgufOptimizeException.BadInput($"--tail-mass must be in (0, 1) (got {tailMass.ToString(CultureInfo.InvariantCulture)})");
        string partial = BaselineLayout.PartialPath(path);
        string identity = IdentityOf(header, tailMass);
        if (File.Exists(path))
        {
            string? why = DescribeFinalMismatch(path, header, tailMass);
            if (why is null)
            {
                // More chunks for a finished file: its chunks go back into a fresh log, the file returns at completion.
                var log = CompactLog.Create(partial, identity);
                CompactBaselineFile.CopyInto(path, log);
                FileStep.Delete(path);
                return new CompactBaselineWriter(path, header, plan, tailMass, log);
            }
            OutputReplacement.RefuseOrDelete(path, why, clobber, progress);
        }
        if (File.Exists(partial))
        {
            string? existing = CompactLog.ReadIdentity(partial);
            if (existing == identity) return new CompactBaselineWriter(path, header, plan, tailMass, CompactLog.Open(partial));
            OutputReplacement.RefuseOrDelete(partial, existing is null ? "is not a compact baseline working file" : $"was made from other inputs ({DescribeIdentityMismatch(existing, header, tailMass)})", clobber, progress);
        }
        return new CompactBaselineWriter(path, header, plan, tailMass, CompactLog.Create(partial, identity));
    }

    public bool IsProcessed(int chunk) => _log.Has(chunk);

    public void WriteLogits(int chunk, int firstPosition, ReadOnlySpan<float> logits)
    {
        int n = _header.VocabSize;
        if (chunk != _currentChunk)
        {
            _current.Clear();
            _currentChunk = chunk;
            _currentTokens = _plan.Chunk(chunk);
        }
        if (firstPosition != _current.Rows)
            throw new InvalidOperationException($"compact encoding needs the rows of chunk {chunk} in order: expected position {_current.Rows}, got {firstPosition}");
        int rows = logits.Length / n;
        for (int r = 0; r < rows; r++)
        {
            int j = firstPosition + r;
            int next = j + 1 < _currentTokens.Length ? _currentTokens[j + 1] : -1;
            _encoder.Encode(logits.Slice(r * n, n), next, _current);
        }
    }

    public void MarkProcessed(int chunk)
    {
        if (chunk != _currentChunk || _current.Rows != _plan.ChunkLength(chunk))
            throw new InvalidOperationException($"chunk {chunk} is not completely encoded");
        try
        {
            _log.Append(chunk, _current);
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
        CompactBaselineFile.Build(_path, _header, _encoder.TailMass, _plan, _log);
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

    private static string? DescribeFinalMismatch(string path, BaselineHeader header, double tailMass)
    {
        BaselineHeader existing;
        double existingTail;
        try
        {
            (existing, existingTail) = CompactBaselineReader.ReadHeader(path);
        }
        catch (GgufOptimizeException e)
        {
            return $"is not a compact baseline file of this tool ({e.Message})";
        }
        string? diff = existing.Difference(header);
        if (diff is null && existingTail != tailMass) diff = $"tail mass {existingTail.ToString("R", CultureInfo.InvariantCulture)}, not {tailMass.ToString("R", CultureInfo.InvariantCulture)}";
        return diff is null ? null : $"was made from {diff}";
    }

    private static string IdentityOf(BaselineHeader header, double tailMass) =>
        JsonSerializer.Serialize(new StoredIdentity(header, tailMass));

    private static string DescribeIdentityMismatch(string existing, BaselineHeader header, double tailMass)
    {
        try
        {
            var old = JsonSerializer.Deserialize<StoredIdentity>(existing);
            if (old is null) return "unreadable header";
            string? diff = old.Header.Difference(header);
            if (diff is not null) return diff;
            return old.TailMass != tailMass ? $"tail mass {old.TailMass.ToString("R", CultureInfo.InvariantCulture)}, not {tailMass.ToString("R", CultureInfo.InvariantCulture)}" : "another header";
        }
        catch (JsonException) { return "unreadable header"; }
    }

    private sealed record StoredIdentity(BaselineHeader Header, double TailMass);
}
