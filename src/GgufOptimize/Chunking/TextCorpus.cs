using System.Security.Cryptography;
using System.Text;
using GgufOptimize.Common;

namespace GgufOptimize.Chunking;

/// <summary>A dataset text file read strictly as UTF-8, with the SHA-256 of its bytes (its identity).</summary>
internal sealed record TextCorpus(string Path, string Text, string Sha256, long Bytes)
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
        // A byte order mark is not text; strict decoding makes invalid UTF-8 an error, not silent U+FFFD.
        int skip = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, skip, bytes.Length - skip);
        }
        catch (DecoderFallbackException e)
        {
            throw GgufOptimizeException.BadInput($"dataset '{path}' is not valid UTF-8 (first invalid byte at offset {FirstInvalidOffset(bytes, skip)}): {e.Message}");
        }
        if (string.IsNullOrWhiteSpace(text)) throw GgufOptimizeException.BadInput($"dataset '{path}' contains only white space");
        return new TextCorpus(path, text, Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes.Length);
    }

    /// <summary>The exact offset (from the start of the file) of the first byte that is not part of valid UTF-8.</summary>
    private static long FirstInvalidOffset(byte[] bytes, int start)
    {
        var chars = new char[1 << 16];
        int at = start;
        while (at < bytes.Length)
        {
            var status = System.Text.Unicode.Utf8.ToUtf16(bytes.AsSpan(at, Math.Min(chars.Length, bytes.Length - at)), chars, out int read, out _,
                replaceInvalidSequences: false, isFinalBlock: at + chars.Length >= bytes.Length);
            if (status == System.Buffers.OperationStatus.InvalidData) return at + read;
            if (read == 0) return at;
            at += read;
        }
        return at;
    }
}
