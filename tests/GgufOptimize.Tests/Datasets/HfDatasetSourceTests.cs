using System.Text.Json;
using GgufOptimize.Common;
using GgufOptimize.Datasets;
using GgufOptimize.Datasets.Output;
using GgufOptimize.Datasets.Sources;
using GgufOptimize.Datasets.Sources.HuggingFace;
using GgufOptimize.Tests.Support;
using static GgufOptimize.Tests.Datasets.DatasetTestHelpers;

namespace GgufOptimize.Tests.Datasets;

/// <summary>The Hugging Face source against a datasets-server look-alike on 127.0.0.1 serving fixture Parquet files.</summary>
public class HfDatasetSourceTests
{
    private sealed class Fixture : IAsyncDisposable
    {
        public TempDir Tmp { get; } = new();
        public Dictionary<string, byte[]> Files { get; } = [];
        public List<object> Listing { get; } = [];
        public LoopbackHttpServer Server { get; }
        /// <summary>Per path, how the next requests should fail before succeeding (consumed in order).</summary>
        public Dictionary<string, Queue<Func<byte[], LoopbackResponse>>> Faults { get; } = [];

        public Fixture()
        {
            Server = new LoopbackHttpServer(Answer);
        }

        private LoopbackResponse Answer(LoopbackRequest r)
        {
            if (Faults.TryGetValue(r.Path, out var queue) && queue.Count > 0)
                return queue.Dequeue()(r.Path == "/parquet" ? [] : Files[r.Path]);
            if (r.Path == "/parquet")
                return r.Query == "dataset=acme%2Fcorpus" ? LoopbackResponse.Json(JsonSerializer.Serialize(new { parquet_files = Listing })) : LoopbackResponse.Error(404);
            return Files.TryGetValue(r.Path, out var bytes) ? new LoopbackResponse(200, bytes) : LoopbackResponse.Error(404);
        }

        public async Task AddFile(string config, string split, string name, IReadOnlyList<(string?, string?)> rows, bool absoluteUrl = false)
        {
            string local = Tmp.File($"fixtures/{config}-{split}-{name}");
            await ParquetFixtures.Write(local, rows);
            string path = $"/files/{config}/{split}/{name}";
            Files[path] = File.ReadAllBytes(local);
            Listing.Add(new { dataset = "acme/corpus", config, split, url = absoluteUrl ? Server.BaseUrl + path : path.TrimStart('/'), filename = name, size = Files[path].Length });
        }

        public HfSettings Settings(string? config = null) => new()
        {
            Endpoint = Server.BaseUrl, Config = config, CacheDirectory = Tmp.File("cache"), Token = "secret-token",
            MaxAttempts = 3, RetryDelay = TimeSpan.FromMilliseconds(5),
        };

        public string[] CachedFiles() => Directory.Exists(Tmp.File("cache"))
            ? Directory.GetFiles(Tmp.File("cache"), "*", SearchOption.AllDirectories).Select(p => Path.GetFileName(p)!).Order().ToArray()
            : [];

        public int RequestsFor(string path) => Server.Requests.Count(r => r.Path == path);

        public async ValueTask DisposeAsync()
        {
            await Server.DisposeAsync();
            Tmp.Dispose();
        }
    }

    private static IEnumerable<(string?, string?)> Rows(string prefix, int count, string lang = "en") =>
        Enumerable.Range(0, count).Select(i => ((string?)$"{lang} {prefix} row {i}", (string?)lang));

    [Fact]
    public async Task Downloads_lazily_into_the_cache_and_reuses_it()
    {
        await using var f = new Fixture();
        await f.AddFile("default", "train", "0000.parquet", Rows("a", 30).ToList());
        await f.AddFile("default", "train", "0001.parquet", Rows("b", 30).ToList(), absoluteUrl: true);
        await f.AddFile("default", "test", "0000.parquet", Rows("t", 5).ToList());
        var source = new HfDatasetSource("acme/corpus", f.Settings(), "text");

        var request = new DatasetRequest { Sources = [source], NumSamples = 20 };
        await DatasetBuilder.BuildAsync(request, DatasetOutput.ToFile(f.Tmp.File("small.txt")), NullProgress.Instance);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"en a row {i}"), ReadSamples(f.Tmp.File("small.txt")));
        Assert.Equal(1, f.RequestsFor("/files/default/train/0000.parquet"));
        Assert.Equal(0, f.RequestsFor("/files/default/train/0001.parquet")); // not needed yet
        Assert.All(f.Server.Requests, r => Assert.Equal("Bearer secret-token", r.Authorization));

        var manifest = await DatasetBuilder.BuildAsync(request with { NumSamples = 50 }, DatasetOutput.ToFile(f.Tmp.File("big.txt")), NullProgress.Instance);
        Assert.Equal(50, ReadSamples(f.Tmp.File("big.txt")).Count);
        Assert.Equal("en b row 19", ReadSamples(f.Tmp.File("big.txt"))[^1]);
        Assert.Equal(1, f.RequestsFor("/files/default/train/0000.parquet")); // served from the cache
        Assert.Equal(1, f.RequestsFor("/files/default/train/0001.parquet"));
        Assert.Equal(0, f.RequestsFor("/files/default/test/0000.parquet"));
        Assert.Equal(["0000.parquet", "0001.parquet"], f.CachedFiles());
        Assert.Contains("hf:acme/corpus", manifest.Selection.Sources[0]);

        // A partial download left by a killed process is cleaned up when the file is fetched again.
        string cached = Directory.GetFiles(f.Tmp.File("cache"), "0001.parquet", SearchOption.AllDirectories).Single();
        File.Delete(cached);
        File.WriteAllText(cached + ".partial-2147483000-0123", "half");
        await DatasetBuilder.BuildAsync(request with { NumSamples = 50 }, DatasetOutput.ToFile(f.Tmp.File("again.txt")), NullProgress.Instance);
        Assert.Equal(["0000.parquet", "0001.parquet"], f.CachedFiles());
        Assert.Equal(File.ReadAllBytes(f.Tmp.File("big.txt")), File.ReadAllBytes(f.Tmp.File("again.txt")));
        Assert.DoesNotContain("secret", manifest.ToJson());
    }

    [Fact]
    public async Task Per_language_configs_give_languages_and_skip_what_is_not_needed()
    {
        await using var f = new Fixture();
        await f.AddFile("web_en", "train", "0000.parquet", Rows("w", 10, "en").ToList());
        await f.AddFile("web_es", "train", "0000.parquet", Rows("w", 10, "es").ToList());
        await f.AddFile("web_ca", "train", "0000.parquet", Rows("w", 10, "ca").ToList());
        var source = new HfDatasetSource("acme/corpus", f.Settings("web_{lang}"), "text");
        Assert.True(source.ProvidesLanguage);
        var progress = new RecordingProgress();
        var manifest = await DatasetBuilder.BuildAsync(new DatasetRequest { Sources = [source], Languages = ["es", "en", "de"], NumSamples = 4 },
            DatasetOutput.ToFile(f.Tmp.File("d.jsonl"), DatasetFormat.Jsonl), progress);
        Assert.Equal([4L, 4L, 0L], manifest.Languages.Select(l => l.Selected));
        Assert.Equal(0, f.RequestsFor("/files/web_ca/train/0000.parquet"));
        Assert.Contains(progress.Warnings, w => w.Contains("no Parquet files for config 'web_de'"));
        Assert.Contains(progress.Warnings, w => w.StartsWith("language 'de': only 0 samples"));
    }

    [Fact]
    public async Task Server_errors_are_retried_with_backoff()
    {
        await using var f = new Fixture();
        await f.AddFile("default", "train", "0000.parquet", Rows("a", 5).ToList());
        f.Faults["/parquet"] = new([_ => LoopbackResponse.Error(503), _ => LoopbackResponse.Error(500)]);
        f.Faults["/files/default/train/0000.parquet"] = new([_ => LoopbackResponse.Error(502)]);
        var request = new DatasetRequest { Sources = [new HfDatasetSource("acme/corpus", f.Settings(), "text")], NumSamples = 5 };
        await DatasetBuilder.BuildAsync(request, DatasetOutput.ToFile(f.Tmp.File("d.txt")), NullProgress.Instance);
        Assert.Equal(5, ReadSamples(f.Tmp.File("d.txt")).Count);
        Assert.Equal(3, f.RequestsFor("/parquet"));
        Assert.Equal(2, f.RequestsFor("/files/default/train/0000.parquet"));
    }

    [Fact]
    public async Task Persistent_failure_is_an_error_and_nothing_is_written()
    {
        await using var f = new Fixture();
        await f.AddFile("default", "train", "0000.parquet", Rows("a", 5).ToList());
        f.Faults["/files/default/train/0000.parquet"] = new(Enumerable.Repeat<Func<byte[], LoopbackResponse>>(_ => LoopbackResponse.Error(500), 3));
        var request = new DatasetRequest { Sources = [new HfDatasetSource("acme/corpus", f.Settings(), "text")], NumSamples = 5 };
        var e = await Assert.ThrowsAsync<GgufOptimizeException>(() => DatasetBuilder.BuildAsync(request, DatasetOutput.ToFile(f.Tmp.File("out/d.txt")), NullProgress.Instance));
        Assert.Equal(FailureKind.Runtime, e.Kind);
        Assert.Contains("failed after 3 attempts", e.Message);
        Assert.Contains("HTTP 500", e.Message);
        Assert.Empty(Directory.GetFiles(f.Tmp.File("out")));
        Assert.Empty(f.CachedFiles());
    }

    [Fact]
    public async Task Truncated_downloads_are_retried_and_never_cached()
    {
        await using var f = new Fixture();
        await f.AddFile("default", "train", "0000.parquet", Rows("a", 200).ToList());
        const string path = "/files/default/train/0000.parquet";
        // Once cut short of its Content-Length, once complete per HTTP but shorter than the listing's size.
        f.Faults[path] = new([b => new LoopbackResponse(200, b[..(b.Length / 2)], DeclaredLength: b.Length), b => new LoopbackResponse(200, b[..^10])]);
        var request = new DatasetRequest { Sources = [new HfDatasetSource("acme/corpus", f.Settings(), "text")], NumSamples = 200 };
        await DatasetBuilder.BuildAsync(request, DatasetOutput.ToFile(f.Tmp.File("d.txt")), NullProgress.Instance);
        Assert.Equal(3, f.RequestsFor(path));
        Assert.Equal(200, ReadSamples(f.Tmp.File("d.txt")).Count);
        Assert.Equal(f.Files[path], File.ReadAllBytes(Directory.GetFiles(f.Tmp.File("cache"), "0000.parquet", SearchOption.AllDirectories).Single()));

        await using var g = new Fixture();
        await g.AddFile("default", "train", "0000.parquet", Rows("a", 200).ToList());
        g.Faults[path] = new(Enumerable.Repeat<Func<byte[], LoopbackResponse>>(b => new LoopbackResponse(200, b[..100], DeclaredLength: b.Length), 3));
        var failing = new DatasetRequest { Sources = [new HfDatasetSource("acme/corpus", g.Settings(), "text")], NumSamples = 200 };
        var e = await Assert.ThrowsAsync<GgufOptimizeException>(() => DatasetBuilder.BuildAsync(failing, DatasetOutput.ToFile(g.Tmp.File("d.txt")), NullProgress.Instance));
        Assert.Contains("failed after 3 attempts", e.Message);
        Assert.Empty(g.CachedFiles()); // no partial file under any name
        Assert.False(File.Exists(g.Tmp.File("d.txt")));
    }

    [Fact]
    public async Task A_body_that_stalls_after_its_headers_times_out_is_retried_then_fails_clearly()
    {
        await using var f = new Fixture();
        await f.AddFile("default", "train", "0000.parquet", Rows("a", 50).ToList());
        const string path = "/files/default/train/0000.parquet";
        // Stalls once (recovered by a retry), then on every attempt of a second run (a clear error, nothing cached).
        f.Faults[path] = new([b => new LoopbackResponse(200, b, StallAfter: 100)]);
        var settings = f.Settings() with { IdleTimeout = TimeSpan.FromMilliseconds(300) };
        var request = new DatasetRequest { Sources = [new HfDatasetSource("acme/corpus", settings, "text")], NumSamples = 50 };
        await DatasetBuilder.BuildAsync(request, DatasetOutput.ToFile(f.Tmp.File("d.txt")), NullProgress.Instance);
        Assert.Equal(2, f.RequestsFor(path));
        Assert.Equal(50, ReadSamples(f.Tmp.File("d.txt")).Count);

        await using var g = new Fixture();
        await g.AddFile("default", "train", "0000.parquet", Rows("a", 50).ToList());
        g.Faults[path] = new(Enumerable.Repeat<Func<byte[], LoopbackResponse>>(b => new LoopbackResponse(200, b, StallAfter: 100), 3));
        var stalled = new DatasetRequest { Sources = [new HfDatasetSource("acme/corpus", g.Settings() with { IdleTimeout = TimeSpan.FromMilliseconds(300) }, "text")], NumSamples = 50 };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<GgufOptimizeException>(() => DatasetBuilder.BuildAsync(stalled, DatasetOutput.ToFile(g.Tmp.File("d.txt")), NullProgress.Instance));
        Assert.Contains("failed after 3 attempts", e.Message);
        Assert.Contains("sent nothing for 0.3 s after 100 bytes", e.Message);
        Assert.Empty(g.CachedFiles());
        Assert.False(File.Exists(g.Tmp.File("d.txt")));
    }

    [Fact]
    public async Task An_endless_listing_is_cut_off_at_its_cap_with_a_clear_error()
    {
        await using var f = new Fixture();
        f.Faults["/parquet"] = new([_ => new LoopbackResponse(200, System.Text.Encoding.UTF8.GetBytes(new string(' ', 1 << 20)), "application/json", DeclaredLength: 1L << 40, Endless: true)]);
        var request = new DatasetRequest { Sources = [new HfDatasetSource("acme/corpus", f.Settings(), "text")], NumSamples = 5 };
        long before = GC.GetTotalAllocatedBytes();
        var e = await Assert.ThrowsAsync<GgufOptimizeException>(() => DatasetBuilder.BuildAsync(request, DatasetOutput.ToFile(f.Tmp.File("d.txt")), NullProgress.Instance));
        Assert.Contains("the Parquet listing of 'acme/corpus' is larger than 16", e.Message);
        Assert.Equal(1, f.RequestsFor("/parquet")); // not retried: a larger answer will not come out smaller
        Assert.True(GC.GetTotalAllocatedBytes() - before < 256L << 20, "the listing was buffered far past its cap");
        Assert.False(File.Exists(f.Tmp.File("d.txt")));
    }

    [Fact]
    public async Task A_download_that_is_not_parquet_is_never_cached_and_a_garbage_cache_entry_is_replaced()
    {
        await using var f = new Fixture();
        await f.AddFile("default", "train", "0000.parquet", Rows("a", 50).ToList());
        const string path = "/files/default/train/0000.parquet";
        // An error page served with status 200 and exactly the listed size: only its content gives it away.
        f.Faults[path] = new([b => new LoopbackResponse(200, Enumerable.Repeat((byte)'<', b.Length).ToArray())]);
        var request = new DatasetRequest { Sources = [new HfDatasetSource("acme/corpus", f.Settings(), "text")], NumSamples = 50 };
        await DatasetBuilder.BuildAsync(request, DatasetOutput.ToFile(f.Tmp.File("d.txt")), NullProgress.Instance);
        Assert.Equal(2, f.RequestsFor(path));
        string cached = Directory.GetFiles(f.Tmp.File("cache"), "0000.parquet", SearchOption.AllDirectories).Single();
        Assert.Equal(f.Files[path], File.ReadAllBytes(cached));

        // A garbage file of the right size already in the cache (left by an older version) is downloaded again.
        File.WriteAllBytes(cached, new byte[f.Files[path].Length]);
        await DatasetBuilder.BuildAsync(request, DatasetOutput.ToFile(f.Tmp.File("d2.txt")), NullProgress.Instance);
        Assert.Equal(3, f.RequestsFor(path));
        Assert.Equal(f.Files[path], File.ReadAllBytes(cached));
    }

    [Fact]
    public async Task Unreachable_endpoint_is_a_clear_error_and_nothing_is_written()
    {
        using var tmp = new TempDir();
        var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        int port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var settings = new HfSettings
        {
            Endpoint = $"http://127.0.0.1:{port}", CacheDirectory = tmp.File("cache"), MaxAttempts = 2, RetryDelay = TimeSpan.FromMilliseconds(5),
        };
        var request = new DatasetRequest { Sources = [new HfDatasetSource("acme/corpus", settings, "text")], NumSamples = 5 };
        var e = await Assert.ThrowsAsync<GgufOptimizeException>(() => DatasetBuilder.BuildAsync(request, DatasetOutput.ToFile(tmp.File("d.txt")), NullProgress.Instance));
        Assert.Contains($"cannot reach 127.0.0.1:{port}", e.Message);
        Assert.Contains("after 2 attempts", e.Message);
        Assert.Empty(Directory.GetFiles(tmp.Path));
    }

    [Fact]
    public async Task Unknown_dataset_denied_access_and_missing_split_are_bad_input()
    {
        await using var f = new Fixture();
        await f.AddFile("default", "train", "0000.parquet", Rows("a", 5).ToList());
        async Task<GgufOptimizeException> Fail(HfDatasetSource source) => await Assert.ThrowsAsync<GgufOptimizeException>(() =>
            DatasetBuilder.BuildAsync(new DatasetRequest { Sources = [source], NumSamples = 5 }, DatasetOutput.ToFile(f.Tmp.File("d.txt")), NullProgress.Instance));

        var e = await Fail(new HfDatasetSource("acme/other", f.Settings(), "text"));
        Assert.Equal(FailureKind.BadInput, e.Kind);
        Assert.Contains("404", e.Message);
        e = await Fail(new HfDatasetSource("acme/corpus", f.Settings() with { Split = "validation" }, "text"));
        Assert.Contains("no split 'validation' (splits: train)", e.Message);
        f.Faults["/parquet"] = new([_ => LoopbackResponse.Error(401)]);
        e = await Fail(new HfDatasetSource("acme/corpus", f.Settings(), "text"));
        Assert.Contains("HF_TOKEN", e.Message);
        Assert.Equal(1, f.RequestsFor("/parquet") - 2); // 4xx is not retried
        Assert.Throws<GgufOptimizeException>(() => new HfDatasetSource("../etc", f.Settings(), "text"));
        Assert.False(File.Exists(f.Tmp.File("d.txt")));
    }

    [Fact]
    public async Task An_empty_listing_names_the_dataset_and_says_it_has_no_files()
    {
        await using var f = new Fixture();
        var e = await Assert.ThrowsAsync<GgufOptimizeException>(() => DatasetBuilder.BuildAsync(
            new DatasetRequest { Sources = [new HfDatasetSource("acme/corpus", f.Settings(), "text")], NumSamples = 5 },
            DatasetOutput.ToFile(f.Tmp.File("d.txt")), NullProgress.Instance));
        Assert.Equal(FailureKind.BadInput, e.Kind);
        Assert.Contains("'acme/corpus'", e.Message);
        Assert.Contains("no Parquet files", e.Message);
        Assert.DoesNotContain("several configs", e.Message);
        Assert.False(File.Exists(f.Tmp.File("d.txt")));
    }
}
