using System.Globalization;
using System.Text.Json;
using GgufOptimize.Chunking;
using GgufOptimize.Common;

namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>
/// Writes a quantized compact baseline (compact-2). Rows are encoded as they arrive, on the writer's thread, so the
/// encoding overlaps the next chunk's decode; each finished chunk goes to the working log <c>NAME.partial</c> (synced,
/// checksummed: a cut record is computed again), and the HDF5 file is built under the final name once the requested
/// range is complete. Reopening a finished file for more chunks copies its chunks back into a log first.
/// </summary>
internal sealed class QuantizedBaselineWriter : IBaselineWriter
{
    private readonly string _path;
    private readonly BaselineHeader _header;
    private readonly IChunkSource _plan;
    private readonly QuantizedChunkEncoder _encoder;
    private readonly CompactLog _log;
    private int _currentChunk = -1, _rows;
    private int[] _currentTokens = [];
    private bool _closed;

    private QuantizedBaselineWriter(string path, BaselineHeader header, IChunkSource plan, QuantizedRowSettings settings, CompactLog log)
    {
        _path = path;
        _header = header;
        _plan = plan;
        _encoder = new QuantizedChunkEncoder(settings, header.VocabSize);
        _log = log;
    }

    public static QuantizedBaselineWriter OpenOrCreate(string path, BaselineHeader header, IChunkSource plan, QuantizedRowSettings settings, bool clobber, IProgressSink progress)
    {
        if (settings.Problem() is { } problem) throw GgufOptimizeException.BadInput($"--tail-mass: {problem}");
        string partial = BaselineLayout.PartialPath(path);
        string identity = JsonSerializer.Serialize(new StoredIdentity(header, settings.TailMass, settings.ProbabilityStep, settings.MaxLogStep, settings.SecondKnee, settings.SecondLogStep));
        if (File.Exists(path))
        {
            string? why = DescribeFinalMismatch(path, header, settings);
            if (why is null)
            {
                var log = CompactLog.Create(partial, identity);
                QuantizedBaselineFile.CopyInto(path, log);
                FileStep.Delete(path);
                return new QuantizedBaselineWriter(path, header, plan, settings, log);
            }
            OutputReplacement.RefuseOrDelete(path, why, clobber, progress);
        }
        if (File.Exists(partial))
        {
            string? existing = CompactLog.ReadIdentity(partial);
            if (existing == identity) return new QuantizedBaselineWriter(path, header, plan, settings, CompactLog.Open(partial));
            OutputReplacement.RefuseOrDelete(partial, existing is null ? "is not a compact baseline working file" : $"was made from other inputs ({DescribeIdentityMismatch(existing, header, settings)})", clobber, progress);
        }
        return new QuantizedBaselineWriter(path, header, plan, settings, CompactLog.Create(partial, identity));
    }

    public bool IsProcessed(int chunk) => _log.Has(chunk);

    public void WriteLogits(int chunk, int firstPosition, ReadOnlySpan<float> logits)
    {
        int n = _header.VocabSize;
        if (chunk != _currentChunk)
        {
            _encoder.Finish();
            _encoder.ResetBoundStatistics();
            _currentChunk = chunk;
            _rows = 0;
            _currentTokens = _plan.Chunk(chunk);
        }
        if (firstPosition != _rows)
            throw new InvalidOperationException($"compact encoding needs the rows of chunk {chunk} in order: expected position {_rows}, got {firstPosition}");
        int rows = logits.Length / n;
        for (int r = 0; r < rows; r++)
        {
            int j = firstPosition + r;
            _encoder.Add(logits.Slice(r * n, n), j + 1 < _currentTokens.Length ? _currentTokens[j + 1] : -1);
        }
        _rows += rows;
    }

    public void MarkProcessed(int chunk)
    {
        if (chunk != _currentChunk || _rows != _plan.ChunkLength(chunk))
            throw new InvalidOperationException($"chunk {chunk} is not completely encoded");
        var record = new QuantizedChunkRecord(_encoder.MaxTotalVariation, _encoder.MaxDecodedDivergence, _encoder.Finish());
        try
        {
            _log.Append(chunk, record.ToBytes());
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
        QuantizedBaselineFile.Build(_path, _header, _encoder.Settings, _plan, _log);
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

    private static string? DescribeFinalMismatch(string path, BaselineHeader header, QuantizedRowSettings settings)
    {
        BaselineHeader existing;
        QuantizedRowSettings existingSettings;
        try
        {
            using var reader = QuantizedBaselineReader.Open(path);
            (existing, existingSettings) = (reader.Header, reader.Settings);
        }
        catch (GgufOptimizeException e)
        {
            return $"is not a compact baseline file of this tool ({e.Message})";
        }
        string? diff = existing.Difference(header);
        if (diff is null && existingSettings != settings) diff = $"encoding {existingSettings.Describe()}, not {settings.Describe()}";
        return diff is null ? null : $"was made from {diff}";
    }

    private static string DescribeIdentityMismatch(string existing, BaselineHeader header, QuantizedRowSettings settings)
    {
        try
        {
            var old = JsonSerializer.Deserialize<StoredIdentity>(existing);
            if (old is null) return "unreadable header";
            string? diff = old.Header.Difference(header);
            if (diff is not null) return diff;
            var before = new QuantizedRowSettings(old.TailMass, old.ProbabilityStep, old.LogStep, old.SecondKnee, old.SecondLogStep);
            return before != settings ? $"encoding {before.Describe()}, not {settings.Describe()}" : "another header";
        }
        catch (JsonException) { return "unreadable header"; }
    }

    private sealed record StoredIdentity(BaselineHeader Header, double TailMass, double ProbabilityStep, double LogStep,
        // Left out when 0, so a compact-2 working file written before compact-3 existed still resumes.
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)] double SecondKnee = 0,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)] double SecondLogStep = 0);
}
