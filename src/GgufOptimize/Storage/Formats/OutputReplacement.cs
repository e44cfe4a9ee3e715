using GgufOptimize.Common;

namespace GgufOptimize.Storage.Formats;

/// <summary>
/// What every baseline writer does with an existing output it cannot continue: refuse it, or with --overwrite
/// replace it and say so. One wording for all formats.
/// </summary>
internal static class OutputReplacement
{
    public static void RefuseOrDelete(string path, string why, bool clobber, IProgressSink progress)
    {
        if (!clobber) throw GgufOptimizeException.BadInput($"output '{path}' {why}; use --overwrite to replace it");
        progress.Warn($"replacing '{path}' ({why})");
        FileStep.Delete(path);
    }
}
