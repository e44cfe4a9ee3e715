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
internal sealed class CompactBaselineWriter : CompactLogWriter
{
    private readonly CompactRowEncoder _encoder;
    private readonly CompactChunk _current = new();

    private CompactBaselineWriter(string path, BaselineHeader header, IChunkSource plan, double tailMass, CompactLog log)
        : base(path, header, plan, log) => _encoder = new CompactRowEncoder(tailMass);

    public static CompactBaselineWriter OpenOrCreate(string path, BaselineHeader header, IChunkSource plan, double tailMass, bool clobber, IProgressSink progress)
    {
        if (!(tailMass > 0 && tailMass < 1)) throw GgufOptimizeException.BadInput($"--tail-mass must be in (0, 1) (got {tailMass.ToString(CultureInfo.InvariantCulture)})");
        var log = OpenLog(path, IdentityOf(header, tailMass), p => DescribeFinalMismatch(p, header, tailMass),
            existing => DescribeIdentityMismatch(existing, header, tailMass), CompactBaselineFile.CopyInto, clobber, progress);
        return new CompactBaselineWriter(path, header, plan, tailMass, log);
    }

    protected override void StartChunk() => _current.Clear();

    protected override void EncodeRow(ReadOnlySpan<float> row, int nextToken) => _encoder.Encode(row, nextToken, _current);

    protected override void AppendChunk(CompactLog log, int chunk) => log.Append(chunk, _current);

    protected override void BuildFile(CompactLog log) => CompactBaselineFile.Build(Path, Header, _encoder.TailMass, Plan, log);

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
