using GgufOptimize.Common;
using GgufOptimize.Storage.Formats.Compact;

namespace GgufOptimize.Storage.Formats;

/// <summary>
/// What an unfinished output (<c>NAME.partial</c>) is becoming. Full and llama.cpp working files carry their final
/// layout from the start; the compact formats' are logs that only name their format in their identity.
/// </summary>
internal static class WorkingFiles
{
    /// <summary>The kind of baseline <paramref name="partialPath"/> will become; null when it is none of ours, or cut short.</summary>
    public static StoredLogitsKind? KindOf(string partialPath)
    {
        try
        {
            if (CompactLog.ReadIdentity(partialPath) is { } identity)
                return QuantizedBaselineWriter.OwnsIdentity(identity) ? StoredLogitsKind.QuantizedCompact : StoredLogitsKind.Compact;
            return StoredBaselines.Detect(partialPath);
        }
        catch (Exception e) when (e is GgufOptimizeException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
