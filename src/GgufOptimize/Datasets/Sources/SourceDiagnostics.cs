namespace GgufOptimize.Datasets.Sources;

/// <summary>What one source read and what it had to skip or repair; ends up in the manifest and on stderr.</summary>
public sealed class SourceDiagnostics
{
    /// <summary>Files opened so far (a source reading one file or a remote stream counts 1 per file).</summary>
    public long Files { get; set; }
    /// <summary>Records seen, kept or skipped: lines, rows, array elements or documents.</summary>
    public long Records { get; set; }
    /// <summary>Bytes read from disk or the network, for progress and the manifest; compressed size when compressed.</summary>
    public long BytesRead { get; set; }
    /// <summary>Lines, rows or elements that could not be parsed (skipped).</summary>
    public IssueCounter Malformed { get; } = new();
    /// <summary>Records without the text (or language) field, or with a null / non-string value (skipped).</summary>
    public IssueCounter MissingField { get; } = new();
    /// <summary>Records with invalid UTF-8 kept with U+FFFD replacements.</summary>
    public IssueCounter InvalidUtf8Replaced { get; } = new();
    /// <summary>Records with invalid UTF-8 dropped.</summary>
    public IssueCounter InvalidUtf8Skipped { get; } = new();
    /// <summary>Records longer than the per-sample byte limit (skipped without being held in memory).</summary>
    public IssueCounter Oversized { get; } = new();

    /// <summary>Other things the user should know (a language config with no files, ...).</summary>
    public List<string> Notes { get; } = [];

    /// <summary>Every issue counter with the name the report prints for it, in a fixed order.</summary>
    public IEnumerable<(string Name, IssueCounter Counter)> Issues()
    {
        yield return ("malformed", Malformed);
        yield return ("missing field", MissingField);
        yield return ("invalid UTF-8 replaced", InvalidUtf8Replaced);
        yield return ("invalid UTF-8 skipped", InvalidUtf8Skipped);
        yield return ("oversized", Oversized);
    }
}
