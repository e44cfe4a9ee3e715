namespace GgufOptimize.Datasets.Output;

/// <summary>What happens when the output (or its manifest) already exists.</summary>
internal enum ExistingOutputMode
{
    /// <summary>Stop with an error; nothing is touched.</summary>
    Refuse,
    /// <summary>Replace it.</summary>
    Overwrite,
    /// <summary>
    /// Extend it, allowed only when its manifest records the same selection: the new files must begin with the existing
    /// bytes (checked), so earlier subsets stay valid. Created when absent.
    /// </summary>
    Append,
}
