using System.Security.Cryptography;
using System.Text;
using GgufOptimize.Common;

namespace GgufOptimize.Chunking;

/// <summary>A dataset text file read strictly as UTF-8, with the SHA-256 of its bytes (its identity).</summary>
public sealed record TextCorpus(string Path, string Text, string Sha256, long Bytes)
{
    public static TextCorpus Load(string path)
    {
        if (!File.Exists(path)) throw GgufOptimizeException.BadInput($"dataset '{path}' does not exist");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw GgufOptimizeException.BadInput($"dataset '{path}' cannot be read: {e.Message}");
        }
        if (bytes.Length == 0) throw GgufOptimizeException.BadInput($"dataset '{path}' is empty");
        string text;
        try
        {
            // A byte order mark is not text; strict decoding makes invalid UTF-8 an error, not silent U+FFFD.
            int skip = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, skip, bytes.Length - skip);
        }
        catch (DecoderFallbackException e)
        {
            throw GgufOptimizeException.BadInput($"dataset '{path}' is not valid UTF-8 (first bad byte near offset {FirstInvalidOffset(bytes)}): {e.Message}");
        }
        if (string.IsNullOrWhiteSpace(text)) throw GgufOptimizeException.BadInput($"dataset '{path}' contains only white space");
        return new TextCorpus(path, text, Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes.Length);
    }

    private static long FirstInvalidOffset(byte[] bytes)
    {
        var decoder = new UTF8Encoding(false, true);
        int lo = 0, hi = bytes.Length;
        // Binary search on the longest valid prefix is cheap and good enough to point the user at the spot.
        while (hi - lo > 4)
        {
            int mid = lo + (hi - lo) / 2;
            try { decoder.GetCharCount(bytes, 0, mid); lo = mid; }
            catch (DecoderFallbackException) { hi = mid; }
        }
        return lo;
    }
}
