namespace GgufOptimize.Common;

/// <summary>
/// How an output records the path of an input (the imatrix of a model, the dataset of an imatrix, the target of a
/// comparison): relative to the output's own folder, with '/' separators. The same run in another folder then
/// writes the same bytes, and the recorded path still leads to the input from where the output lies.
/// </summary>
internal static class RecordedPath
{
    /// <summary><paramref name="input"/> as seen from the folder that holds <paramref name="output"/>.</summary>
    public static string Of(string input, string output)
    {
        string from = Path.GetDirectoryName(Path.GetFullPath(output))!;
        return Path.GetRelativePath(from, Path.GetFullPath(input)).Replace(Path.DirectorySeparatorChar, '/');
    }

    /// <summary>A recorded path made usable again: relative ones are taken from the output's folder, absolute ones (older files) as they are.</summary>
    public static string Resolve(string recorded, string output) =>
        Path.IsPathRooted(recorded) ? recorded : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(output))!, recorded));
}
