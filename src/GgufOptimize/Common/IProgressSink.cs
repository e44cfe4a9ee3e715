namespace GgufOptimize.Common;

/// <summary>
/// Where long-running library services report progress. The CLI renders it on stderr
/// (a Spectre.Console bar when interactive, plain lines otherwise); tests pass <see cref="NullProgress"/>.
/// </summary>
internal interface IProgressSink
{
    /// <summary>Starts a task with a total number of units (chunks, tensors, ...).</summary>
    void Start(string description, long total);
    /// <summary>Reports that <paramref name="done"/> units of the current task are complete; tokens counts work for rate display.</summary>
    void Report(long done, long tokens = 0);
    /// <summary>A message for the user (warnings, what is being skipped and why).</summary>
    void Info(string message);
    void Warn(string message);
    void Finish();
}

internal sealed class NullProgress : IProgressSink
{
    public static readonly NullProgress Instance = new();
    public void Start(string description, long total) { }
    public void Report(long done, long tokens = 0) { }
    public void Info(string message) { }
    public void Warn(string message) { }
    public void Finish() { }
}
