namespace GgufOptimize.Datasets.Sources;

/// <summary>Base for sources that read local files with blocking I/O: they implement a plain iterator.</summary>
internal abstract class SynchronousSource : IDatasetSource
{
    public abstract string Description { get; }
    public abstract bool ProvidesLanguage { get; }
    public virtual long? TotalBytes => null;

    protected abstract IEnumerable<SourceSample> Read(SourceReadContext context, CancellationToken cancellationToken);

    public IAsyncEnumerable<SourceSample> ReadAsync(SourceReadContext context, CancellationToken cancellationToken) =>
        new Adapter(() => Read(context, cancellationToken).GetEnumerator());

    private sealed class Adapter(Func<IEnumerator<SourceSample>> start) : IAsyncEnumerable<SourceSample>
    {
        public IAsyncEnumerator<SourceSample> GetAsyncEnumerator(CancellationToken cancellationToken = default) => new Enumerator(start());
    }

    private sealed class Enumerator(IEnumerator<SourceSample> inner) : IAsyncEnumerator<SourceSample>
    {
        public SourceSample Current => inner.Current;
        public ValueTask<bool> MoveNextAsync() => ValueTask.FromResult(inner.MoveNext());
        public ValueTask DisposeAsync()
        {
            inner.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
