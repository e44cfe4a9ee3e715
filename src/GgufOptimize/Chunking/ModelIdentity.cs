using System.Security.Cryptography;
using GgufOptimize.Common;

namespace GgufOptimize.Chunking;

/// <summary>What identifies a model file in provenance attributes: name, size and SHA-256 of the whole file.</summary>
internal sealed record ModelIdentity(string FileName, long Size, string Sha256)
{
    private static readonly Dictionary<(string, long, DateTime), string> Cache = new();

    public static ModelIdentity Of(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw GgufOptimizeException.BadInput($"model file '{path}' does not exist");
        var key = (info.FullName, info.Length, info.LastWriteTimeUtc);
        string sha;
        lock (Cache)
        {
            if (!Cache.TryGetValue(key, out sha!))
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
                sha = Convert.ToHexStringLower(SHA256.HashData(stream));
                Cache[key] = sha;
            }
        }
        return new ModelIdentity(info.Name, info.Length, sha);
    }
}
