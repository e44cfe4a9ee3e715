namespace GgufOptimize.Common;

/// <summary>What went wrong, in the words a user can act on; the CLI prints <see cref="Exception.Message"/> as one line.</summary>
public enum FailureKind
{
    /// <summary>A file, option or value supplied by the user is wrong (exit code 2).</summary>
    BadInput,
    /// <summary>The work itself failed: native error, disk full, etc. (exit code 1).</summary>
    Runtime,
}

/// <summary>An error meant for the user: one line naming the file or option and what is wrong.</summary>
public class GgufOptimizeException : Exception
{
    public FailureKind Kind { get; }

    public GgufOptimizeException(FailureKind kind, string message, Exception? inner = null) : base(message, inner) => Kind = kind;

    public static GgufOptimizeException BadInput(string message) => new(FailureKind.BadInput, message);
    public static GgufOptimizeException Runtime(string message, Exception? inner = null) => new(FailureKind.Runtime, message, inner);
}
