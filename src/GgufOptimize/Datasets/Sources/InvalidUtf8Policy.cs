namespace GgufOptimize.Datasets.Sources;

/// <summary>What a source does with a record whose bytes are not valid UTF-8. Either way it is counted.</summary>
public enum InvalidUtf8Policy
{
    /// <summary>Keep the record, each invalid sequence becoming U+FFFD.</summary>
    Replace,
    /// <summary>Drop the record.</summary>
    Skip,
}
