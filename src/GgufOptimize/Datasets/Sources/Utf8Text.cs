using System.Text;
using System.Text.Unicode;

namespace GgufOptimize.Datasets.Sources;

/// <summary>Strict UTF-8 decoding with the user's policy for invalid bytes.</summary>
internal static class Utf8Text
{
    /// <summary>
    /// Decodes <paramref name="bytes"/>; returns null when they are invalid and the policy is to skip.
    /// <paramref name="invalid"/> tells whether any byte sequence was invalid.
    /// </summary>
    public static string? Decode(ReadOnlySpan<byte> bytes, InvalidUtf8Policy policy, out bool invalid)
    {
        invalid = !Utf8.IsValid(bytes);
        if (invalid && policy == InvalidUtf8Policy.Skip) return null;
        // Encoding.UTF8 substitutes U+FFFD for every invalid sequence.
        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>Applies the policy and records the outcome; returns false when the record must be dropped.</summary>
    public static bool Check(string? decoded, bool invalid, SourceReadContext context, string file, long line, string unit = "")
    {
        if (!invalid) return true;
        if (decoded is null)
        {
            context.Diagnostics.InvalidUtf8Skipped.Record(file, line, unit);
            return false;
        }
        context.Diagnostics.InvalidUtf8Replaced.Record(file, line, unit);
        return true;
    }

    public static bool IsBlank(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\f' or (byte)'\v')) return false;
        return true;
    }
}
