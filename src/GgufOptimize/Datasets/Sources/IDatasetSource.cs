namespace GgufOptimize.Datasets.Sources;

/// <summary>
/// A stream of texts for calibration or evaluation datasets. New sources are one class implementing this interface
/// (plus, for the CLI, one line in <see cref="DatasetSourceKinds"/>).
/// </summary>
/// <remarks>
/// Contract: read lazily, holding no more than a few samples (or one Parquet row group) in memory; yield samples in a
/// stable order (the same bytes give the same sequence), because <c>--skip-samples</c>, <c>--append</c> and nested
/// subsets rely on it; count skipped or repaired records in <see cref="SourceReadContext.Diagnostics"/> instead of
/// throwing; throw <see cref="Common.GgufOptimizeException"/> only for what makes the whole source unusable.
/// </remarks>
public interface IDatasetSource
{
    /// <summary>How the manifest and messages name this source, including the settings that change its output.</summary>
    string Description { get; }

    /// <summary>True when every sample carries a language (a language field or a fixed tag); required by <c>--langs</c>.</summary>
    bool ProvidesLanguage { get; }

    /// <summary>Total bytes the source will read when known up front (local files), for progress; null otherwise.</summary>
    long? TotalBytes => null;

    /// <summary>
    /// Yields the source's texts in their stable order. Called once per pass; a second call must start again from
    /// the beginning and yield the same sequence.
    /// </summary>
    /// <param name="context">Where to count skipped or repaired records, the UTF-8 policy, the per-sample byte limit
    /// and the language hint.</param>
    /// <param name="cancellationToken">Stops the read between samples; the enumeration then throws
    /// <see cref="OperationCanceledException"/>.</param>
    IAsyncEnumerable<SourceSample> ReadAsync(SourceReadContext context, CancellationToken cancellationToken);
}
