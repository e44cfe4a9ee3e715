using System.Text.Json;
using System.Text.Json.Serialization;
using GgufOptimize.Chunking;
using GgufOptimize.Common;

namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>
/// Writes a quantized compact baseline (compact-2, -3 or -4, as its settings say). Rows are encoded as they arrive, on the writer's thread, so the
/// encoding overlaps the next chunk's decode; each finished chunk goes to the working log <c>NAME.partial</c> (synced,
/// checksummed: a cut record is computed again), and the HDF5 file is built under the final name once the requested
/// range is complete. Reopening a finished file for more chunks copies its chunks back into a log first.
/// </summary>
internal sealed class QuantizedBaselineWriter : CompactLogWriter
{
    private readonly QuantizedChunkEncoder _encoder;

    private QuantizedBaselineWriter(string path, BaselineHeader header, IChunkSource plan, QuantizedRowSettings settings, CompactLog log)
        : base(path, header, plan, log) => _encoder = new QuantizedChunkEncoder(settings, header.VocabSize);

    public static QuantizedBaselineWriter OpenOrCreate(string path, BaselineHeader header, IChunkSource plan, QuantizedRowSettings settings, bool clobber, IProgressSink progress)
    {
        if (settings.Problem() is { } problem) throw GgufOptimizeException.BadInput($"--tail-mass: {problem}");
        string identity = JsonSerializer.Serialize(StoredIdentity.Of(header, settings));
        var log = OpenLog(path, identity, p => DescribeFinalMismatch(p, header, settings),
            existing => DescribeIdentityMismatch(existing, header, settings), QuantizedBaselineFile.CopyInto, clobber, progress);
        return new QuantizedBaselineWriter(path, header, plan, settings, log);
    }

    protected override void StartChunk()
    {
        _encoder.Finish();
        _encoder.ResetBoundStatistics();
    }

    protected override void EncodeRow(ReadOnlySpan<float> row, int nextToken) => _encoder.Add(row, nextToken);

    protected override void AppendChunk(CompactLog log, int chunk) =>
        log.Append(chunk, new QuantizedChunkRecord(_encoder.MaxTotalVariation, _encoder.MaxDecodedDivergence, _encoder.Finish()).ToBytes());

    protected override void BuildFile(CompactLog log) => QuantizedBaselineFile.Build(Path, Header, _encoder.Settings, Plan, log);

    /// <summary>Whether a working log's identity is this format's (compact-1's has no probability step).</summary>
    public static bool OwnsIdentity(string identity)
    {
        try
        {
            return JsonSerializer.Deserialize<StoredIdentity>(identity) is { ProbabilityStep: > 0 };
        }
        catch (JsonException) { return false; }
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
            var before = old.Settings;
            return before != settings ? $"encoding {before.Describe()}, not {settings.Describe()}" : "another header";
        }
        catch (JsonException) { return "unreadable header"; }
    }

    private sealed record StoredIdentity(BaselineHeader Header, double TailMass, double ProbabilityStep, double LogStep,
        // Left out when 0 (null), so a working file written before compact-3 (compact-4) existed still resumes.
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] double SecondKnee = 0,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] double SecondLogStep = 0,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] StoredIdentity.Mapping? Fine = null,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] double WideShare = 0)
    {
        public sealed record Mapping(double TailMass, double ProbabilityStep, double LogStep, double SecondKnee, double SecondLogStep);

        public static StoredIdentity Of(BaselineHeader header, QuantizedRowSettings s) =>
            new(header, s.TailMass, s.ProbabilityStep, s.MaxLogStep, s.SecondKnee, s.SecondLogStep,
                s.Fine is { } f ? new Mapping(f.TailMass, f.ProbabilityStep, f.MaxLogStep, f.SecondKnee, f.SecondLogStep) : null, s.WideShare);

        [JsonIgnore]
        public QuantizedRowSettings Settings => new QuantizedRowSettings(TailMass, ProbabilityStep, LogStep, SecondKnee, SecondLogStep)
        {
            Fine = Fine is { } f ? new QuantizedRowSettings(f.TailMass, f.ProbabilityStep, f.LogStep, f.SecondKnee, f.SecondLogStep) : null,
            WideShare = WideShare,
        };
    }
}
