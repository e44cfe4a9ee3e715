using GgufOptimize.Datasets.Sources;

namespace GgufOptimize.Tests.Datasets;

internal static class SourceTestHelpers
{
    public static async Task<(List<SourceSample> Samples, SourceDiagnostics Diagnostics)> ReadAll(IDatasetSource source,
        InvalidUtf8Policy policy = InvalidUtf8Policy.Replace, int maxSampleBytes = SourceReadContext.DefaultMaxSampleBytes)
    {
        var diagnostics = new SourceDiagnostics();
        var context = new SourceReadContext(diagnostics, policy, maxSampleBytes);
        var samples = new List<SourceSample>();
        await foreach (var s in source.ReadAsync(context, CancellationToken.None)) samples.Add(s);
        return (samples, diagnostics);
    }

    public static void WriteBytes(string path, params object[] parts)
    {
        using var f = File.Create(path);
        foreach (var p in parts)
        {
            var bytes = p is byte[] b ? b : System.Text.Encoding.UTF8.GetBytes((string)p);
            f.Write(bytes);
        }
    }
}

/// <summary>An in-memory source: what a new source kind looks like (one class implementing IDatasetSource).</summary>
internal sealed class ListSource(IEnumerable<(string Text, string? Lang)> items, string name = "list") : SynchronousSource
{
    private readonly List<(string Text, string? Lang)> _items = items.ToList();
    public override string Description => $"memory:{name}";
    public override bool ProvidesLanguage => _items.All(i => i.Lang is not null);

    protected override IEnumerable<SourceSample> Read(SourceReadContext context, CancellationToken cancellationToken)
    {
        foreach (var (text, lang) in _items)
        {
            context.Diagnostics.Records++;
            yield return new SourceSample(text, lang);
        }
    }
}
