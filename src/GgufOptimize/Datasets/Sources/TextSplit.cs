namespace GgufOptimize.Datasets.Sources;

/// <summary>How a plain-text file is cut into samples.</summary>
internal enum TextSplit
{
    /// <summary>Runs of non-blank lines separated by one or more blank lines.</summary>
    Paragraph,
    /// <summary>Every non-blank line.</summary>
    Line,
    /// <summary>The whole file.</summary>
    File,
}
