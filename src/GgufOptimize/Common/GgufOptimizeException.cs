namespace GgufOptimize.Common;

/// <summary>What went wrong, in the words a user can act on; the CLI prints <see cref="Exception.Message"/> as one line.</summary>
public enum FailureKind
{
    /// <summary>A file, option or value supplied by the user is wrong (exit code 2).</summary>
    BadInput,
    /// <summary>The work itself failed: native error, disk full, etc. (exit code 1).</summary>
    Runtime,
}

/// <summary>
/// An error meant for the user: one line naming the file or option and what is wrong. Anything else that escapes a
/// command is treated as a bug. A dataset plugin throws this only when the whole source is unusable (a missing file,
/// an unreadable format); single bad records are counted in <see cref="Datasets.Sources.SourceDiagnostics"/> instead.
/// </summary>
public class GgufOptimizeException : Exception
{
    /// <summary>Whether the user's input or the work itself failed; decides the exit code (2 or 1).</summary>
    public FailureKind Kind { get; }

    /// <summary>Creates an error of <paramref name="kind"/>.</summary>
    /// <param name="kind">Bad input (exit code 2) or a runtime failure (exit code 1).</param>
    /// <param name="message">One line, no trailing newline, naming the file or option and, when there is one, the fix.</param>
    /// <param name="inner">The underlying exception, kept for <c>--verbose</c>; its message is not shown otherwise.</param>
    public GgufOptimizeException(FailureKind kind, string message, Exception? inner = null) : base(message, inner) => Kind = kind;

    /// <summary>A file, option or value the user supplied is wrong; <paramref name="message"/> names it and the fix.</summary>
    public static GgufOptimizeException BadInput(string message) => new(FailureKind.BadInput, message);

    /// <summary>The work failed although the input was acceptable (native error, disk full, I/O failure).</summary>
    public static GgufOptimizeException Runtime(string message, Exception? inner = null) => new(FailureKind.Runtime, message, inner);
}
