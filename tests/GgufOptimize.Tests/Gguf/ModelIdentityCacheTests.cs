using System.Security.Cryptography;
using GgufOptimize.Chunking;

namespace GgufOptimize.Tests.Gguf;

public sealed class ModelIdentityCacheTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ggufopt-identity-").FullName;
    private string CacheDir => Path.Combine(_dir, "cache");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A file of <paramref name="bytes"/> last written an hour ago (outside the racy window).</summary>
    private string OldFile(string name, byte[] bytes, int hoursAgo = 1)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddHours(-hoursAgo));
        return path;
    }

    private static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
    private static FileInfo[] Files(string path) => [new FileInfo(path)];

    [Fact]
    public void A_hash_is_remembered_across_instances_and_used_only_while_size_and_time_are_unchanged()
    {
        string model = OldFile("m.gguf", [1, 2, 3, 4, 5]);
        var cache = new ModelIdentityCache(CacheDir, minimumBytes: 0);
        Assert.Null(cache.TryGet(Files(model)));
        Assert.Equal(Sha(model), ModelIdentity.Of(model, cache).Sha256);
        Assert.Single(Directory.GetFiles(CacheDir));
        // Another process (another instance) finds it.
        Assert.Equal(Sha(model), new ModelIdentityCache(CacheDir, 0).TryGet(Files(model)));

        // Same size, other bytes, other time: the entry is stale and not used.
        File.WriteAllBytes(model, [9, 9, 9, 9, 9]);
        File.SetLastWriteTimeUtc(model, DateTime.UtcNow.AddHours(-2));
        Assert.Null(cache.TryGet(Files(model)));
        Assert.Equal(Sha(model), ModelIdentity.Of(model, cache).Sha256);
        Assert.Equal(Sha(model), cache.TryGet(Files(model)));

        // Other size, time put back: not used either.
        var time = File.GetLastWriteTimeUtc(model);
        File.WriteAllBytes(model, [9, 9, 9, 9, 9, 9]);
        File.SetLastWriteTimeUtc(model, time);
        Assert.Null(cache.TryGet(Files(model)));
        Assert.Equal(Sha(model), ModelIdentity.Of(model, cache).Sha256);
        Assert.Single(Directory.GetFiles(CacheDir)); // one entry per path, replaced
    }

    [Theory]
    [InlineData("truncate")]
    [InlineData("flip-hash")]
    [InlineData("garbage")]
    [InlineData("empty")]
    public void A_damaged_entry_is_ignored_and_the_file_hashed_again(string damage)
    {
        string model = OldFile("m.gguf", [7, 7, 7, 1]);
        var cache = new ModelIdentityCache(CacheDir, 0);
        string sha = ModelIdentity.Of(model, cache).Sha256;
        string entry = Directory.GetFiles(CacheDir).Single();
        string text = File.ReadAllText(entry);
        File.WriteAllText(entry, damage switch
        {
            "truncate" => text[..(text.Length / 2)],
            // A wrong hash whose line still looks valid: the entry's checksum no longer matches.
            "flip-hash" => text.Replace("sha256 " + sha, "sha256 " + new string('0', 64)),
            "garbage" => "not an entry at all\n",
            _ => "",
        });
        Assert.Null(cache.TryGet(Files(model)));
        // A fresh process (no memory of the file) hashes again and repairs the entry.
        var fresh = new ModelIdentityCache(CacheDir, 0);
        Assert.Null(fresh.TryGet(Files(model)));
        fresh.Put(Files(model), ModelIdentityCache.Stamp(Files(model)), sha);
        Assert.Equal(sha, fresh.TryGet(Files(model)));
    }

    [Fact]
    public void An_entry_for_another_file_at_the_same_name_length_is_not_used()
    {
        string a = OldFile("a.gguf", [1, 1]), b = OldFile("b.gguf", [2, 2]);
        var cache = new ModelIdentityCache(CacheDir, 0);
        string shaA = ModelIdentity.Of(a, cache).Sha256;
        // Move a's entry to b's entry name: its stamp names a.gguf, so b does not take a's hash.
        cache.Put(Files(b), ModelIdentityCache.Stamp(Files(b)), Sha(b));
        string entryB = Directory.GetFiles(CacheDir).Single(f => File.ReadAllText(f).Contains("b.gguf"));
        string entryA = Directory.GetFiles(CacheDir).Single(f => f != entryB);
        File.Copy(entryA, entryB, overwrite: true);
        Assert.Null(cache.TryGet(Files(b)));
        Assert.Equal(shaA, cache.TryGet(Files(a)));
    }

    [Fact]
    public void A_file_written_moments_ago_or_changed_while_hashed_is_not_remembered()
    {
        string fresh = Path.Combine(_dir, "fresh.gguf");
        File.WriteAllBytes(fresh, [1, 2, 3]);
        var cache = new ModelIdentityCache(CacheDir, 0);
        Assert.Equal(Sha(fresh), ModelIdentity.Of(fresh, cache).Sha256);
        Assert.Null(cache.TryGet(Files(fresh)));

        string model = OldFile("m.gguf", [1, 2, 3]);
        string before = ModelIdentityCache.Stamp(Files(model));
        File.SetLastWriteTimeUtc(model, DateTime.UtcNow.AddHours(-3));
        cache.Put(Files(model), before, Sha(model));
        Assert.Null(cache.TryGet(Files(model)));
    }

    [Fact]
    public void Small_files_and_a_disabled_cache_write_nothing()
    {
        string model = OldFile("m.gguf", new byte[100]);
        ModelIdentity.Of(model, new ModelIdentityCache(CacheDir, minimumBytes: 101));
        Assert.False(Directory.Exists(CacheDir));
        var off = new ModelIdentityCache(null, 0);
        Assert.Equal(Sha(model), ModelIdentity.Of(model, off).Sha256);
        Assert.Null(off.TryGet(Files(model)));
    }

    [Fact]
    public void Concurrent_writers_and_readers_never_see_a_wrong_or_partial_entry()
    {
        string model = OldFile("m.gguf", Enumerable.Range(0, 4096).Select(i => (byte)i).ToArray());
        string sha = Sha(model), stamp = ModelIdentityCache.Stamp(Files(model));
        int hits = 0;
        Parallel.For(0, 8, worker =>
        {
            var cache = new ModelIdentityCache(CacheDir, 0);
            for (int i = 0; i < 200; i++)
            {
                if (worker % 2 == 0) cache.Put(Files(model), stamp, sha);
                string? got = cache.TryGet(Files(model));
                if (got is not null)
                {
                    Assert.Equal(sha, got);
                    Interlocked.Increment(ref hits);
                }
            }
        });
        Assert.True(hits > 0);
        Assert.Single(Directory.GetFiles(CacheDir)); // no temporary file left behind
    }
}
