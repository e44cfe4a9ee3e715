using System.Security.Cryptography;
using GgufOptimize.Common;

namespace GgufOptimize.Chunking;

/// <summary>
/// What identifies a model file in provenance attributes: name, size and SHA-256 of the whole file. A split model
/// (any shard named) is identified by its first shard's name, the total size and the SHA-256 of all shards' bytes in
/// order, so the same model split differently is still told apart by size only when the bytes differ.
/// </summary>
internal sealed record ModelIdentity(string FileName, long Size, string Sha256)
{
    private static readonly Dictionary<(string, long, DateTime), string> Cache = new();

    public static ModelIdentity Of(string path)
    {
        var shards = Gguf.GgufSplits.ShardPaths(path);
        if (shards.Count > 1) return OfShards(shards);
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

    private static ModelIdentity OfShards(IReadOnlyList<string> shards)
    {
        var infos = shards.Select(s => new FileInfo(s)).ToList();
        var key = (string.Join("\n", infos.Select(i => i.FullName)), infos.Sum(i => i.Length), infos.Max(i => i.LastWriteTimeUtc));
        string sha;
        lock (Cache)
        {
            if (!Cache.TryGetValue(key, out sha!))
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = new byte[1 << 20];
                foreach (var info in infos)
                {
                    using var stream = new FileStream(info.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
                    int n;
                    while ((n = stream.Read(buffer, 0, buffer.Length)) > 0) hash.AppendData(buffer, 0, n);
                }
                sha = Convert.ToHexStringLower(hash.GetHashAndReset());
                Cache[key] = sha;
            }
        }
        return new ModelIdentity(infos[0].Name, key.Item2, sha);
    }
}
