using System.Text;
using System.Text.RegularExpressions;
using GgufOptimize.Common;

namespace GgufOptimize.Datasets.Sources;

/// <summary>
/// Turns a source location into files, in a stable (ordinal) order: a file, a folder (every non-hidden file below it
/// that the kind accepts) or a pattern with <c>*</c>, <c>?</c> and <c>**</c> (any number of folders).
/// </summary>
internal static class FileGlob
{
    public static IReadOnlyList<string> Expand(string location, Func<string, bool>? folderFilter = null)
    {
        if (string.IsNullOrWhiteSpace(location)) throw GgufOptimizeException.BadInput("a source location is empty");
        if (File.Exists(location)) return [location];
        if (Directory.Exists(location))
        {
            var files = Directory.EnumerateFiles(location, "*", SearchOption.AllDirectories)
                .Where(f => !IsHidden(Path.GetRelativePath(location, f)) && (folderFilter is null || folderFilter(f)))
                .Order(StringComparer.Ordinal).ToList();
            if (files.Count == 0) throw GgufOptimizeException.BadInput($"source folder '{location}' holds no matching files");
            return files;
        }
        if (location.IndexOfAny(['*', '?']) < 0) throw GgufOptimizeException.BadInput($"source '{location}' does not exist");
        return ExpandPattern(location);
    }

    private static List<string> ExpandPattern(string location)
    {
        var segments = location.Replace('\\', '/').Split('/');
        int firstWild = Array.FindIndex(segments, s => s.IndexOfAny(['*', '?']) >= 0);
        string root = string.Join('/', segments[..firstWild]);
        if (root.Length == 0) root = location.StartsWith('/') ? "/" : ".";
        string pattern = string.Join('/', segments[firstWild..]);
        if (!Directory.Exists(root)) throw GgufOptimizeException.BadInput($"source '{location}': folder '{root}' does not exist");
        var regex = new Regex(ToRegex(pattern), RegexOptions.CultureInvariant);
        bool deep = pattern.Contains('/') || pattern.Contains("**");
        var files = Directory.EnumerateFiles(root, "*", deep ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly)
            .Where(f =>
            {
                string relative = Path.GetRelativePath(root, f).Replace('\\', '/');
                return regex.IsMatch(relative) && !IsHidden(relative);
            })
            .Select(f => root == "." && !location.StartsWith("./") ? Path.GetRelativePath(".", f) : f)
            .Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw GgufOptimizeException.BadInput($"source pattern '{location}' matches no files");
        return files;
    }

    private static bool IsHidden(string relative) => relative.Replace('\\', '/').Split('/').Any(s => s.StartsWith('.') && s is not "." and not "..");

    private static string ToRegex(string pattern)
    {
        var sb = new StringBuilder("^");
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                bool slash = i + 2 < pattern.Length && pattern[i + 2] == '/';
                sb.Append(slash ? "(?:.*/)?" : ".*");
                i += slash ? 2 : 1;
            }
            else if (c == '*') sb.Append("[^/]*");
            else if (c == '?') sb.Append("[^/]");
            else sb.Append(Regex.Escape(c.ToString()));
        }
        return sb.Append('$').ToString();
    }
}
