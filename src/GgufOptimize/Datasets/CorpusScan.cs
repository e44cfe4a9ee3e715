using GgufOptimize.Common;
using GgufOptimize.Datasets.Output;
using GgufOptimize.Datasets.Selection;
using GgufOptimize.Datasets.Sources;

namespace GgufOptimize.Datasets;

/// <summary>
/// Streams every source once, maps samples to language groups, applies the length filters and hands each surviving
/// sample (prepared and hashed) to the caller. Holds one sample at a time; records what each source read and skipped.
/// </summary>
internal sealed class CorpusScan(SelectionPlan plan, IProgressSink progress)
{
    public long[] TooShort { get; } = new long[plan.Groups.Count];
    public long[] TooLong { get; } = new long[plan.Groups.Count];
    public List<(SourceRecord Record, SourceDiagnostics Diagnostics)> Sources { get; } = [];

    /// <param name="wanted">False once a group can take no more samples (arrival order only).</param>
    /// <param name="offer">Receives the group, the prepared sample and its seeded hash.</param>
    /// <param name="finished">True once no group wants anything: reading stops early.</param>
    public async Task RunAsync(Func<int, bool> wanted, Action<int, PreparedText, UInt128> offer, Func<bool> finished, CancellationToken cancellationToken)
    {
        var request = plan.Request;
        var lookup = plan.GroupLookup();
        var text = new PreparedText(request.Seed);
        foreach (var source in request.Sources)
        {
            var diagnostics = new SourceDiagnostics();
            var record = new SourceRecord { Description = source.Description };
            Sources.Add((record, diagnostics));
            if (finished()) continue;
            var context = new SourceReadContext(diagnostics, request.InvalidUtf8, request.MaxSampleBytes, plan.UsesLanguages ? plan.Groups : null,
                language => plan.GroupOf(language, lookup) is var g && g >= 0 && wanted(g));
            long? total = source.TotalBytes;
            progress.Start($"reading {source.Description}", total ?? 0);
            long seen = 0;
            await foreach (var sample in source.ReadAsync(context, cancellationToken).WithCancellation(cancellationToken))
            {
                if (++seen % 1024 == 0 && total is not null) progress.Report(Math.Min(diagnostics.BytesRead, total.Value));
                int group = plan.GroupOf(sample.Language, lookup);
                if (group < 0)
                {
                    record.OtherLanguages++;
                    continue;
                }
                if (!wanted(group)) continue;
                if (!text.Prepare(sample.Text) || text.Chars < request.MinChars)
                {
                    TooShort[group]++;
                    continue;
                }
                if (request.MaxChars is { } max && text.Chars > max)
                {
                    TooLong[group]++;
                    continue;
                }
                offer(group, text, text.Hash());
                if (finished()) break;
            }
            if (total is not null) progress.Report(total.Value);
            progress.Finish();
            record.Files = diagnostics.Files;
            record.Records = diagnostics.Records;
            record.Bytes = diagnostics.BytesRead;
            foreach (var (name, counter) in diagnostics.Issues())
                if (counter.Count > 0) record.Issues[name] = new IssueRecord { Count = counter.Count, First = [.. counter.FirstLocations] };
            if (diagnostics.Notes.Count > 0) record.Notes = [.. diagnostics.Notes];
        }
    }

    /// <summary>One line per kind of skipped or repaired input, for stderr and the manifest.</summary>
    public IEnumerable<string> IssueWarnings()
    {
        foreach (var (record, diagnostics) in Sources)
        {
            foreach (var (name, counter) in diagnostics.Issues())
                if (counter.Count > 0)
                    yield return $"{record.Description}: {counter.Count} record{(counter.Count == 1 ? "" : "s")} {name} " +
                                 $"{(name.StartsWith("invalid UTF-8 replaced") ? "(kept)" : "(skipped)")}; first: {string.Join(", ", counter.FirstLocations)}";
            foreach (var note in diagnostics.Notes) yield return $"{record.Description}: {note}";
        }
    }
}
