namespace GgufOptimize.Common;

/// <summary>Process exit codes shared by every command, documented in the README.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    /// <summary>The work failed at run time (native failure, I/O error, disk full).</summary>
    public const int Failure = 1;
    /// <summary>Bad input: a wrong option, a missing or malformed file.</summary>
    public const int BadInput = 2;
    /// <summary>Interrupted with Ctrl-C; completed work is kept and the same command resumes.</summary>
    public const int Cancelled = 130;
}
