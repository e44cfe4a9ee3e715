using GgufOptimize.Common;
using GgufOptimize.Storage;
using GgufOptimize.Storage.Formats;

namespace GgufOptimize.Logits;

/// <summary>
/// Which format a <c>logits</c> run writes when the user did not say (issue 13: compact is the default once it is
/// accurate and small enough). A run that continues an output keeps that output's format, so the same command typed
/// again resumes instead of refusing a file made by an older default.
/// </summary>
internal static class LogitsFormatChoice
{
    /// <summary>The format for a new file when nothing else decides: compact-4.</summary>
    public const LogitsFormat Default = LogitsFormat.QuantizedCompact;

    /// <param name="given">The format the user named, or null.</param>
    /// <param name="outputPath">The output the run writes (its final name).</param>
    /// <param name="fullOnlyOptionGiven">The user gave an option only full rows have (--precision, --compression).</param>
    /// <param name="continued">The existing file whose format was taken, or null.</param>
    public static LogitsFormat Resolve(LogitsFormat? given, string outputPath, bool fullOnlyOptionGiven, out string? continued)
    {
        continued = null;
        if (given is { } named) return named;
        if (Existing(outputPath, out continued) is { } existing) return existing;
        // llama-perplexity's users name its baselines .kld; an HDF5 file under that name would mislead every tool.
        if (outputPath.EndsWith(".kld", StringComparison.OrdinalIgnoreCase)) return LogitsFormat.LlamaCpp;
        return fullOnlyOptionGiven ? LogitsFormat.Full : Default;
    }

    /// <summary>The format of the finished output, else of its working file; null when neither is there or ours.</summary>
    private static LogitsFormat? Existing(string outputPath, out string? path)
    {
        string partial = BaselineLayout.PartialPath(outputPath);
        (path, var kind) = File.Exists(outputPath) ? (outputPath, FinishedKind(outputPath))
            : File.Exists(partial) ? (partial, WorkingFiles.KindOf(partial))
            : (null, null);
        var format = kind switch
        {
            StoredLogitsKind.Full or StoredLogitsKind.FullCompressed => LogitsFormat.Full,
            StoredLogitsKind.Compact => LogitsFormat.Compact,
            StoredLogitsKind.QuantizedCompact => LogitsFormat.QuantizedCompact,
            StoredLogitsKind.LlamaCpp => LogitsFormat.LlamaCpp,
            _ => (LogitsFormat?)null,
        };
        if (format is null) path = null;
        return format;
    }

    private static StoredLogitsKind? FinishedKind(string path)
    {
        try
        {
            return StoredBaselines.Detect(path);
        }
        catch (Exception e) when (e is GgufOptimizeException or IOException or UnauthorizedAccessException)
        {
            // Not a baseline: the writer refuses it (or replaces it with --overwrite) in its own words.
            return null;
        }
    }
}
