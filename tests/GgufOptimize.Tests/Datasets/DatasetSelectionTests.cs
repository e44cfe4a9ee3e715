using GgufOptimize.Common;
using GgufOptimize.Datasets;
using GgufOptimize.Datasets.Output;
using GgufOptimize.Datasets.Sources;
using GgufOptimize.Tests.Support;
using static GgufOptimize.Tests.Datasets.DatasetTestHelpers;

namespace GgufOptimize.Tests.Datasets;

public class DatasetSelectionTests
{
    private static readonly Dictionary<string, int> ThreeLanguages = new() { ["en"] = 400, ["es"] = 300, ["ca"] = 250 };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Nested_subsets_are_prefixes_and_keep_equal_language_shares(bool shuffle)
    {
        using var tmp = new TempDir();
        string corpus = WriteCorpus(tmp.File("c.jsonl"), ThreeLanguages);
        long[] sizes = [10, 25, 60, 100];
        var manifest = await DatasetBuilder.BuildAsync(Request(corpus, subsets: sizes, shuffle: shuffle, seed: 7),
            DatasetOutput.ToDirectory(tmp.File("out")), NullProgress.Instance);

        Assert.Equal(sizes, manifest.Subsets.Select(s => s.Size));
        string previous = "";
        foreach (var subset in manifest.Subsets)
        {
            string path = Path.Combine(tmp.File("out"), subset.File);
            string content = File.ReadAllText(path);
            Assert.StartsWith(previous, content);
            previous = content;
            Assert.Equal(Sha256(path), subset.Sha256);
            var samples = ReadSamples(path);
            Assert.Equal(subset.Size * 3, samples.Count);
            foreach (var lang in new[] { "en", "es", "ca" })
            {
                Assert.Equal(subset.Size, samples.Count(s => LanguageOf(s) == lang));
                Assert.Equal(subset.Size, subset.Languages[lang].Samples);
            }
            // Every prefix of the file is balanced too: no language runs more than one sample ahead.
            var running = new Dictionary<string, int> { ["en"] = 0, ["es"] = 0, ["ca"] = 0 };
            foreach (var s in samples)
            {
                running[LanguageOf(s)]++;
                Assert.True(running.Values.Max() - running.Values.Min() <= 1);
            }
        }
        Assert.Equal(100 * 3, ReadSamples(Path.Combine(tmp.File("out"), "subset-100.txt")).Distinct().Count());
        Assert.All(manifest.Languages, l => Assert.False(l.Shortfall));
        if (!shuffle)
        {
            // Without shuffle a language's samples come in source order.
            var en = ReadSamples(Path.Combine(tmp.File("out"), "subset-100.txt")).Where(s => LanguageOf(s) == "en").ToList();
            Assert.Equal(Enumerable.Range(0, 100).Select(i => $"en sample {i}:"), en.Select(s => s[..s.IndexOf(':')] + ":"));
        }
    }

    [Fact]
    public async Task Weighted_shares_hold_at_every_subset_size()
    {
        using var tmp = new TempDir();
        string corpus = WriteCorpus(tmp.File("c.jsonl"), ThreeLanguages);
        var weights = new Dictionary<string, double> { ["en"] = 3, ["es"] = 2, ["ca"] = 1 };
        var manifest = await DatasetBuilder.BuildAsync(Request(corpus, subsets: [7, 20, 50], weights: weights),
            DatasetOutput.ToDirectory(tmp.File("out")), NullProgress.Instance);
        foreach (var subset in manifest.Subsets)
        {
            long total = subset.Size * 3;
            Assert.Equal(total, subset.Samples);
            foreach (var (lang, w) in weights)
                Assert.InRange(subset.Languages[lang].Samples, total * w / 6 - 1, total * w / 6 + 1);
        }
        Assert.Equal([75, 50, 25], manifest.Subsets[^1].Languages.Values.Select(c => c.Samples));
    }

    [Fact]
    public async Task A_seed_makes_shuffle_deterministic_and_independent_of_corpus_order()
    {
        using var tmp = new TempDir();
        string corpus = WriteCorpus(tmp.File("c.jsonl"), ThreeLanguages);
        File.WriteAllLines(tmp.File("reversed.jsonl"), File.ReadAllLines(corpus).Reverse());
        async Task<string> Run(string source, long seed, string name)
        {
            await DatasetBuilder.BuildAsync(Request(source, num: 40, shuffle: true, seed: seed), DatasetOutput.ToFile(tmp.File(name)), NullProgress.Instance);
            return File.ReadAllText(tmp.File(name));
        }
        string a = await Run(corpus, 42, "a.txt");
        string b = await Run(corpus, 42, "b.txt");
        string reversed = await Run(tmp.File("reversed.jsonl"), 42, "r.txt");
        string other = await Run(corpus, 43, "o.txt");
        Assert.Equal(a, b);
        Assert.Equal(a, reversed);
        Assert.NotEqual(a, other);
        await DatasetBuilder.BuildAsync(Request(corpus, num: 40), DatasetOutput.ToFile(tmp.File("u.txt")), NullProgress.Instance);
        Assert.NotEqual(a, File.ReadAllText(tmp.File("u.txt")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Skip_then_extend_equals_one_larger_run(bool shuffle)
    {
        using var tmp = new TempDir();
        string corpus = WriteCorpus(tmp.File("c.jsonl"), ThreeLanguages);
        await DatasetBuilder.BuildAsync(Request(corpus, num: 30, shuffle: shuffle, seed: 5), DatasetOutput.ToFile(tmp.File("first.txt")), NullProgress.Instance);
        await DatasetBuilder.BuildAsync(Request(corpus, num: 50, skip: 30, shuffle: shuffle, seed: 5), DatasetOutput.ToFile(tmp.File("more.txt")), NullProgress.Instance);
        await DatasetBuilder.BuildAsync(Request(corpus, num: 80, shuffle: shuffle, seed: 5), DatasetOutput.ToFile(tmp.File("all.txt")), NullProgress.Instance);
        var joined = ReadSamples(tmp.File("first.txt")).Concat(ReadSamples(tmp.File("more.txt"))).ToList();
        Assert.Equal(ReadSamples(tmp.File("all.txt")), joined);
        Assert.Equal(240, joined.Distinct().Count());
    }

    [Fact]
    public async Task Skip_with_weights_continues_the_same_order()
    {
        using var tmp = new TempDir();
        string corpus = WriteCorpus(tmp.File("c.jsonl"), ThreeLanguages);
        var weights = new Dictionary<string, double> { ["en"] = 2.5, ["es"] = 1, ["ca"] = 0.5 };
        await DatasetBuilder.BuildAsync(Request(corpus, num: 11, weights: weights, shuffle: true), DatasetOutput.ToFile(tmp.File("first.txt")), NullProgress.Instance);
        await DatasetBuilder.BuildAsync(Request(corpus, num: 23, skip: 11, weights: weights, shuffle: true), DatasetOutput.ToFile(tmp.File("more.txt")), NullProgress.Instance);
        await DatasetBuilder.BuildAsync(Request(corpus, num: 34, weights: weights, shuffle: true), DatasetOutput.ToFile(tmp.File("all.txt")), NullProgress.Instance);
        Assert.Equal(ReadSamples(tmp.File("all.txt")), ReadSamples(tmp.File("first.txt")).Concat(ReadSamples(tmp.File("more.txt"))));
    }

    [Fact]
    public async Task Duplicates_and_length_filters_are_applied_and_counted()
    {
        using var tmp = new TempDir();
        var items = new List<(string, string?)>
        {
            ("  same text  ", "en"), ("same text", "en"), ("x", "en"), ("unique one", "en"), ("same text", "es"),
            ("a rather long sample that exceeds the limit", "en"), ("another", "en"), ("   ", "en"), ("fr text", "fr"),
        };
        var request = new DatasetRequest { Sources = [new ListSource(items)], Languages = ["en", "es"], NumSamples = 10, MinChars = 2, MaxChars = 20 };
        var progress = new RecordingProgress();
        var manifest = await DatasetBuilder.BuildAsync(request, DatasetOutput.ToFile(tmp.File("d.txt")), progress);
        Assert.Equal(["same text", "same text", "unique one", "another"], ReadSamples(tmp.File("d.txt")));
        var en = manifest.Languages.Single(l => l.Language == "en");
        Assert.Equal(1, en.Duplicates);
        Assert.Equal(2, en.TooShort); // "x" and the blank one
        Assert.Equal(1, en.TooLong);
        Assert.True(en.Shortfall);
        Assert.Equal(1, manifest.Sources[0].OtherLanguages);
        Assert.Contains(progress.Warnings, w => w.Contains("language 'en': only 3 samples available, 10 requested"));
        Assert.Contains("language 'es': only 1 samples", string.Join("\n", manifest.Warnings));

        var kept = await DatasetBuilder.BuildAsync(request with { Deduplicate = false }, DatasetOutput.ToFile(tmp.File("k.txt")), NullProgress.Instance);
        Assert.Equal(4, kept.Languages.Single(l => l.Language == "en").Selected);
    }

    [Fact]
    public async Task Shortfall_uses_what_exists_and_keeps_shares_until_a_language_runs_out()
    {
        using var tmp = new TempDir();
        string corpus = WriteCorpus(tmp.File("c.jsonl"), new Dictionary<string, int> { ["en"] = 100, ["es"] = 100, ["ca"] = 12 });
        var progress = new RecordingProgress();
        var manifest = await DatasetBuilder.BuildAsync(Request(corpus, subsets: [10, 50]), DatasetOutput.ToDirectory(tmp.File("out")), progress);
        Assert.Equal(30, manifest.Subsets[0].Samples);
        Assert.Equal([50, 50, 12], manifest.Subsets[1].Languages.Values.Select(c => c.Samples));
        var ca = manifest.Languages.Single(l => l.Language == "ca");
        Assert.True(ca.Shortfall);
        Assert.Equal(12, ca.Selected);
        Assert.Single(progress.Warnings, w => w.StartsWith("language 'ca'"));
    }

    [Fact]
    public async Task A_huge_sample_count_takes_everything_quickly()
    {
        using var tmp = new TempDir();
        string corpus = WriteCorpus(tmp.File("c.jsonl"), ThreeLanguages);
        var manifest = await DatasetBuilder.BuildAsync(Request(corpus, num: 1_000_000_000_000, shuffle: true), DatasetOutput.ToFile(tmp.File("all.txt")), NullProgress.Instance);
        Assert.Equal(950, manifest.Subsets[0].Samples);
        Assert.All(manifest.Languages, l => Assert.True(l.Shortfall));
    }

    [Fact]
    public async Task Token_budgets_select_the_shortest_prefix_and_nest()
    {
        using var tmp = new TempDir();
        string corpus = WriteCorpus(tmp.File("c.jsonl"), ThreeLanguages);
        var counter = new WordTokenCounter();
        foreach (bool shuffle in new[] { false, true })
        {
            var request = Request(corpus, shuffle: shuffle, subsets: [300, 900, 2400]) with { Tokenizer = counter, NumTokens = 2400 };
            var manifest = await DatasetBuilder.BuildAsync(request, DatasetOutput.ToDirectory(tmp.File($"out{shuffle}")), NullProgress.Instance);
            Assert.Equal("tokens", manifest.Selection.Unit);
            string previous = "";
            foreach (var subset in manifest.Subsets)
            {
                string path = Path.Combine(tmp.File($"out{shuffle}"), subset.File);
                string content = File.ReadAllText(path);
                Assert.StartsWith(previous, content);
                previous = content;
                foreach (var lang in new[] { "en", "es", "ca" })
                {
                    // Each language reaches its third of the budget and would not without its last sample.
                    var samples = ReadSamples(path).Where(s => LanguageOf(s) == lang).ToList();
                    int tokens = samples.Sum(counter.CountTokens);
                    Assert.True(tokens >= subset.Size / 3.0, $"{lang} {tokens} < {subset.Size / 3.0}");
                    Assert.True(tokens - counter.CountTokens(samples[^1]) < subset.Size / 3.0);
                    Assert.Equal(tokens, subset.Languages[lang].Tokens);
                }
            }
        }
    }

    [Fact]
    public async Task Count_only_reports_availability_without_writing()
    {
        using var tmp = new TempDir();
        string corpus = WriteCorpus(tmp.File("c.jsonl"), new Dictionary<string, int> { ["en"] = 50, ["es"] = 20 });
        File.AppendAllText(corpus, "{\"text\": \"en sample 0: dup\", \"lang\": \"en\"}\n{\"text\": \"en sample 0: dup\", \"lang\": \"en\"}\n{oops\n");
        var report = await DatasetBuilder.CountAsync(Request(corpus, num: 30, langs: ["en", "es"]), NullProgress.Instance);
        Assert.Equal([51L, 20L], report.Languages.Select(l => l.Samples));
        Assert.Equal(1, report.Languages[0].Duplicates);
        Assert.Equal([true, false], report.Languages.Select(l => l.Enough));
        Assert.Equal(1, report.Sources[0].Issues["malformed"].Count);
        Assert.Single(Directory.GetFiles(tmp.Path));
    }

    [Fact]
    public async Task Bad_requests_are_refused_before_reading()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("t.txt"), "hello");
        var untagged = new DatasetRequest { Sources = [new TextFileSource(tmp.File("t.txt"))], Languages = ["en"], NumSamples = 5 };
        var e = await Assert.ThrowsAsync<GgufOptimizeException>(() => DatasetBuilder.BuildAsync(untagged, DatasetOutput.ToFile(tmp.File("o.txt")), NullProgress.Instance));
        Assert.Contains("has no language", e.Message);
        var tokens = untagged with { Languages = null, NumSamples = null, NumTokens = 100 };
        e = await Assert.ThrowsAsync<GgufOptimizeException>(() => DatasetBuilder.BuildAsync(tokens, DatasetOutput.ToFile(tmp.File("o.txt")), NullProgress.Instance));
        Assert.Contains("--model", e.Message);
        var subsets = untagged with { Languages = null, Subsets = [1, 2] };
        e = await Assert.ThrowsAsync<GgufOptimizeException>(() => DatasetBuilder.BuildAsync(subsets, DatasetOutput.ToFile(tmp.File("o.txt")), NullProgress.Instance));
        Assert.Contains("--output-dir", e.Message);
        e = await Assert.ThrowsAsync<GgufOptimizeException>(() => DatasetBuilder.BuildAsync(subsets, DatasetOutput.ToDirectory(tmp.File("d")), NullProgress.Instance));
        Assert.Contains("must equal --num-samples", e.Message);
        var weights = untagged with { Languages = ["en"], Weights = new Dictionary<string, double> { ["de"] = 2 }, Sources = [new TextFileSource(tmp.File("t.txt"), language: "en")] };
        e = await Assert.ThrowsAsync<GgufOptimizeException>(() => DatasetBuilder.BuildAsync(weights, DatasetOutput.ToFile(tmp.File("o.txt")), NullProgress.Instance));
        Assert.Contains("'de'", e.Message);
        Assert.Single(Directory.GetFiles(tmp.Path));
    }
}
