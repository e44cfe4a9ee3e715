using GgufOptimize.Common;

namespace GgufOptimize.Cli.Infrastructure.Progress;

/// <summary>--quiet: warnings still reach stderr, progress and information do not.</summary>
internal sealed class QuietProgress(TextWriter writer) : IProgressSink
{
    private readonly object _gate = new();
    public void Start(string description, long total) { }
    public void Report(long done, long tokens = 0) { }
    public void Info(string message) { }
    public void Warn(string message) { lock (_gate) writer.WriteLine($"warning: {message}"); }
    public void Finish() { }
}
