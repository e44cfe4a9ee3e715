using System.Text.Json;
using GgufOptimize.Common;
using GgufOptimize.Datasets;
using GgufOptimize.Datasets.Output;
using GgufOptimize.Tests.Support;
using static GgufOptimize.Tests.Datasets.DatasetTestHelpers;

namespace GgufOptimize.Tests.Datasets;

public class DatasetOutputTests
{
    private static readonly Dictionary<string, int> Corpus = new() { ["en"] = 120, ["es"] = 120, ["ca"] = 120 };

    [Fact]
    public async Task Manifest_sits_beside_the_output_and_records_the_run()
    {
        using var tmp = new TempDir();
        string corpus = WriteCorpus(tmp.File("c.jsonl"), Corpus);
        var manifest = await DatasetBuilder.BuildAsync(Request(corpus, num: 20, shuffle: true, seed: 9), DatasetOutput.ToFile(tmp.File("calib.txt")), NullProgress.Instance);
        string manifestPath = tmp.File("calib.txt.manifest.json");
        Assert.True(File.Exists(manifestPath));
        var loaded = DatasetManifest.Load(manifestPath);
        Assert.Equal(manifest.Fingerprint, loaded.Fingerprint);
        Assert.Equal(9, loaded.Selection.Seed);
        Assert.Equal(["en", "es", "ca"], loaded.Selection.Languages!);
        var subset = Assert.Single(loaded.Subsets);
        Assert.Equal("calib.txt", subset.File);
        Assert.Equal(Sha256(tmp.File("calib.txt")), subset.Sha256);
        Assert.Equal(new FileInfo(tmp.File("calib.txt")).Length, subset.Bytes);
        Assert.Equal(60, subset.Samples);
        Assert.Equal(ReadSamples(tmp.File("calib.txt")).Sum(s => s.EnumerateRunes().Count()), subset.Chars);
        Assert.Equal(360, loaded.Sources[0].Records);
        Assert.Equal(new FileInfo(corpus).Length, loaded.Sources[0].Bytes);
        // Nothing but the output, its manifest and the corpus: no scratch or temporary files left.
        Assert.Equal(["c.jsonl", "calib.txt", "calib.txt.manifest.json"], Directory.GetFiles(tmp.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public async Task Jsonl_format_keeps_the_language()
    {
        using var tmp = new TempDir();
        string corpus = WriteCorpus(tmp.File("c.jsonl"), Corpus);
        await DatasetBuilder.BuildAsync(Request(corpus, num: 5), DatasetOutput.ToFile(tmp.File("d.jsonl"), DatasetFormat.Jsonl), NullProgress.Instance);
        await DatasetBuilder.BuildAsync(Request(corpus, num: 5), DatasetOutput.ToFile(tmp.File("d.txt")), NullProgress.Instance);
        var lines = File.ReadAllLines(tmp.File("d.jsonl"));
        var texts = new List<string>();
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            string text = doc.RootElement.GetProperty("text").GetString()!;
            Assert.Equal(LanguageOf(text), doc.RootElement.GetProperty("lang").GetString());
            texts.Add(text);
        }
        Assert.Equal(ReadSamples(tmp.File("d.txt")), texts);
        Assert.DoesNotContain("\\u00", File.ReadAllText(tmp.File("d.jsonl"))); // non-ASCII is written as is
    }

    [Fact]
    public async Task Existing_output_is_refused_unless_overwrite()
    {
        using var tmp = new TempDir();
        string corpus = WriteCorpus(tmp.File("c.jsonl"), Corpus);
        var output = DatasetOutput.ToFile(tmp.File("d.txt"));
        await DatasetBuilder.BuildAsync(Request(corpus, num: 5), output, NullProgress.Instance);
        string before = File.ReadAllText(tmp.File("d.txt"));
        var e = await Assert.ThrowsAsync<GgufOptimizeException>(() => DatasetBuilder.BuildAsync(Request(corpus, num: 8), output, NullProgress.Instance));
        Assert.Equal(FailureKind.BadInput, e.Kind);
        Assert.Contains("already exists", e.Message);
        Assert.Equal(before, File.ReadAllText(tmp.File("d.txt")));
        await DatasetBuilder.BuildAsync(Request(corpus, num: 8), output with { Existing = ExistingOutputMode.Overwrite }, NullProgress.Instance);
        Assert.Equal(24, ReadSamples(tmp.File("d.txt")).Count);
    }

    [Fact]
    public async Task Append_extends_a_file_made_by_the_same_selection_to_what_one_run_gives()
    {
        using var tmp = new TempDir();
        string corpus = WriteCorpus(tmp.File("c.jsonl"), Corpus);
        var append = DatasetOutput.ToFile(tmp.File("d.txt"), existing: ExistingOutputMode.Append);
        await DatasetBuilder.BuildAsync(Request(corpus, num: 10, shuffle: true, seed: 3), append, NullProgress.Instance);
        byte[] small = File.ReadAllBytes(tmp.File("d.txt"));
        await DatasetBuilder.BuildAsync(Request(corpus, num: 25, shuffle: true, seed: 3), append, NullProgress.Instance);
        byte[] grown = File.ReadAllBytes(tmp.File("d.txt"));
        Assert.Equal(small, grown[..small.Length]);
        await DatasetBuilder.BuildAsync(Request(corpus, num: 25, shuffle: true, seed: 3), DatasetOutput.ToFile(tmp.File("one.txt")), NullProgress.Instance);
        Assert.Equal(File.ReadAllBytes(tmp.File("one.txt")), grown);

        var e = await Assert.ThrowsAsync<GgufOptimizeException>(() => DatasetBuilder.BuildAsync(Request(corpus, num: 30, shuffle: true, seed: 4), append, NullProgress.Instance));
        Assert.Contains("different selection", e.Message);
        e = await Assert.ThrowsAsync<GgufOptimizeException>(() => DatasetBuilder.BuildAsync(Request(corpus, num: 20, shuffle: true, seed: 3), append, NullProgress.Instance));
        Assert.Contains("does not begin with", e.Message);
        File.AppendAllText(tmp.File("d.txt"), "edited\n");
        e = await Assert.ThrowsAsync<GgufOptimizeException>(() => DatasetBuilder.BuildAsync(Request(corpus, num: 30, shuffle: true, seed: 3), append, NullProgress.Instance));
        Assert.Contains("was changed", e.Message);
    }

    [Fact]
    public async Task Append_to_subset_folder_keeps_earlier_subsets_byte_identical()
    {
        using var tmp = new TempDir();
        string corpus = WriteCorpus(tmp.File("c.jsonl"), Corpus);
        var output = DatasetOutput.ToDirectory(tmp.File("calib"), existing: ExistingOutputMode.Append);
        var first = await DatasetBuilder.BuildAsync(Request(corpus, subsets: [5, 10]), output, NullProgress.Instance);
        var second = await DatasetBuilder.BuildAsync(Request(corpus, subsets: [20, 40]), output, NullProgress.Instance);
        Assert.Equal([5, 10, 20, 40], second.Subsets.Select(s => s.Size));
        Assert.Equal(first.Subsets.Select(s => s.Sha256), second.Subsets.Take(2).Select(s => s.Sha256));
        Assert.Equal(["manifest.json", "subset-10.txt", "subset-20.txt", "subset-40.txt", "subset-5.txt"],
            Directory.GetFiles(tmp.File("calib")).Select(Path.GetFileName).Order());

        // Overwrite with other sizes removes the subsets the old manifest listed.
        await DatasetBuilder.BuildAsync(Request(corpus, subsets: [7]), output with { Existing = ExistingOutputMode.Overwrite }, NullProgress.Instance);
        Assert.Equal(["manifest.json", "subset-7.txt"], Directory.GetFiles(tmp.File("calib")).Select(Path.GetFileName).Order());
    }

    [Fact]
    public async Task Append_refuses_data_without_a_manifest()
    {
        using var tmp = new TempDir();
        string corpus = WriteCorpus(tmp.File("c.jsonl"), Corpus);
        File.WriteAllText(tmp.File("d.txt"), "half written");
        var e = await Assert.ThrowsAsync<GgufOptimizeException>(() =>
            DatasetBuilder.BuildAsync(Request(corpus, num: 5), DatasetOutput.ToFile(tmp.File("d.txt"), existing: ExistingOutputMode.Append), NullProgress.Instance));
        Assert.Contains("without a manifest", e.Message);
        Assert.Equal("half written", File.ReadAllText(tmp.File("d.txt")));
    }

    [Fact]
    public async Task Library_entry_point_for_the_iterative_loop_grows_subsets()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("corpus.txt"), string.Join("\n\n", Enumerable.Range(0, 100).Select(i => $"paragraph {i} of the corpus")));
        var first = await NestedSubsets.CreateAsync(tmp.File("corpus.txt"), [10, 20], tmp.File("calib"));
        var files = NestedSubsets.Files(first, tmp.File("calib"));
        Assert.Equal(20, ReadSamples(files[1]).Count);
        var second = await NestedSubsets.CreateAsync(tmp.File("corpus.txt"), [40], tmp.File("calib"));
        var grown = NestedSubsets.Files(second, tmp.File("calib"));
        Assert.Equal(3, grown.Count);
        Assert.StartsWith(File.ReadAllText(files[1]), File.ReadAllText(grown[2]));
        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"paragraph {i} of the corpus"), ReadSamples(grown[2]));
    }
}
