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
    private static readonly Dictionary<string, string> Memory = new();

    /// <summary>The identity of the model at <paramref name="path"/>, hashed once per file version (see <see cref="ModelIdentityCache"/>).</summary>
    public static ModelIdentity Of(string path) => Of(path, ModelIdentityCache.Default);

    internal static ModelIdentity Of(string path, ModelIdentityCache cache)
    {
        var shards = Gguf.GgufSplits.ShardPaths(path);
        var infos = shards.Count > 1 ? shards.Select(s => new FileInfo(s)).ToList() : [new FileInfo(path)];
        if (shards.Count <= 1 && !infos[0].Exists) throw GgufOptimizeException.BadInput($"model file '{path}' does not exist");
        string stamp = ModelIdentityCache.Stamp(infos);
        long size = infos.Sum(i => i.Length);
        string? sha;
        lock (Memory)
        {
            if (!Memory.TryGetValue(stamp, out sha))
            {
                sha = cache.TryGet(infos);
                if (sha is null)
                {
                    sha = Hash(infos);
                    cache.Put(infos, stamp, sha);
                }
                Memory[stamp] = sha;
            }
        }
        return new ModelIdentity(infos[0].Name, size, sha);
    }

    /// <summary>SHA-256 of all the files' bytes in order.</summary>
    private static string Hash(IReadOnlyList<FileInfo> infos)
    {
        if (infos.Count == 1)
        {
            using var stream = new FileStream(infos[0].FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
            return Convert.ToHexStringLower(SHA256.HashData(stream));
        }
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        foreach (var info in infos)
        {
            using var stream = new FileStream(info.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
            int n;
            while ((n = stream.Read(buffer, 0, buffer.Length)) > 0) hash.AppendData(buffer, 0, n);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
