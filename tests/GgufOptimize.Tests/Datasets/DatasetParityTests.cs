using System.Text.Json;
using GgufOptimize.Datasets.Selection;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Datasets;

/// <summary>The dataset builder's plugin, config file, raw-sample output and token-balanced interleaving, through the CLI.</summary>
public class DatasetParityTests
{
    /// <summary>examples/DatasetPlugin's DLL, built with the solution (and before the tests: the test project depends on it).</summary>
    private static string PluginDll()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "GgufOptimize.slnx"))) dir = dir.Parent;
        Assert.NotNull(dir);
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        string dll = Path.Combine(dir!.FullName, "examples", "DatasetPlugin", "bin", configuration, "net10.0", "DatasetPlugin.dll");
        Assert.True(File.Exists(dll), $"{dll} is not built (dotnet build GgufOptimize.slnx builds it)");
        return dll;
    }

    private static string LanguageFolder(TempDir tmp)
    {
        string folder = Path.Combine(tmp.Path, "corpus");
        Directory.CreateDirectory(folder);
        File.WriteAllLines(Path.Combine(folder, "en.txt"), Enumerable.Range(0, 20).Select(i => $"english sample number {i}"));
        File.WriteAllLines(Path.Combine(folder, "de.txt"), Enumerable.Range(0, 20).Select(i => $"deutsches Beispiel Nummer {i}"));
        File.WriteAllLines(Path.Combine(folder, "fr.txt"), Enumerable.Range(0, 20).Select(i => $"exemple français {i}"));
        return folder;
    }

    [Fact]
    public void A_plugin_assembly_is_a_source_and_raw_samples_carry_their_language()
    {
        using var tmp = new TempDir();
        string folder = LanguageFolder(tmp);
        var r = CliProcess.Run("dataset", "--plugin", PluginDll(), "--plugin-arg", folder, "--langs", "en,de", "-n", "3",
            "-o", tmp.File("out.txt"), "--write-raw-samples", tmp.File("raw.jsonl"), "-q");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var paragraphs = File.ReadAllText(tmp.File("out.txt")).Split("\n\n", StringSplitOptions.TrimEntries);
        Assert.Equal(["english sample number 0", "deutsches Beispiel Nummer 0", "english sample number 1", "deutsches Beispiel Nummer 1", "english sample number 2", "deutsches Beispiel Nummer 2"], paragraphs);
        var raw = File.ReadAllLines(tmp.File("raw.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(6, raw.Count);
        Assert.Equal(paragraphs, raw.Select(e => e.GetProperty("text").GetString()));
        Assert.Equal(["en", "de", "en", "de", "en", "de"], raw.Select(e => e.GetProperty("lang").GetString()));
        var manifest = JsonDocument.Parse(File.ReadAllText(tmp.File("out.txt.manifest.json"))).RootElement.ToString();
        Assert.Contains("language-folder:", manifest);
    }

    [Fact]
    public void Bad_plugin_input_is_refused_naming_the_option()
    {
        using var tmp = new TempDir();
        var missing = CliProcess.Run("dataset", "--plugin", tmp.File("none.dll"), "-o", tmp.File("o.txt"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--plugin", missing.Stderr);
        File.WriteAllText(tmp.File("fake.dll"), "not an assembly");
        var fake = CliProcess.Run("dataset", "--plugin", tmp.File("fake.dll"), "-o", tmp.File("o.txt"));
        Assert.Equal(2, fake.ExitCode);
        Assert.Contains("not a .NET assembly", fake.Stderr);
        var wrongClass = CliProcess.Run("dataset", "--plugin", PluginDll(), "--plugin-class", "Nope", "--plugin-arg", tmp.Path, "-o", tmp.File("o.txt"));
        Assert.Equal(2, wrongClass.ExitCode);
        Assert.Contains("--plugin-class 'Nope'", wrongClass.Stderr);
        var noFolder = CliProcess.Run("dataset", "--plugin", PluginDll(), "--plugin-arg", tmp.File("absent"), "-o", tmp.File("o.txt"));
        Assert.Equal(2, noFolder.ExitCode);
        Assert.Contains("absent", noFolder.Stderr);
        Assert.False(File.Exists(tmp.File("o.txt")));
    }

    [Fact]
    public void A_config_file_gives_languages_weights_and_sources()
    {
        using var tmp = new TempDir();
        string folder = LanguageFolder(tmp);
        foreach (var lang in new[] { "en", "de", "fr" })
            File.WriteAllLines(tmp.File($"{lang}.jsonl"), File.ReadAllLines(Path.Combine(folder, $"{lang}.txt")).Select(t => JsonSerializer.Serialize(new { body = t, lang })));
        File.WriteAllText(tmp.File("config.yaml"), $"""
            # as llama-gguf-optimize's config: a language list
            language:
            - fr
            - en
            weights: {"{"} en: 2 {"}"}
            sources:
              - jsonl:{tmp.File("en.jsonl")}
              - jsonl:{tmp.File("de.jsonl")}
              - jsonl:{tmp.File("fr.jsonl")}
            text_field: body
            lang_field: lang
            """);
        var r = CliProcess.Run("dataset", "--config", tmp.File("config.yaml"), "-n", "2", "-o", tmp.File("out.txt"), "--json", "-");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var languages = JsonDocument.Parse(r.Stdout).RootElement.GetProperty("languages").EnumerateArray()
            .ToDictionary(l => l.GetProperty("language").GetString()!, l => l.GetProperty("selected").GetInt32());
        // -n 2 at equal weight is 4 samples for two languages, split 2:1 by the file's weights.
        Assert.Equal(new Dictionary<string, int> { ["fr"] = 1, ["en"] = 3 }, languages);

        // The command line wins over the file.
        var overridden = CliProcess.Run("dataset", "--config", tmp.File("config.yaml"), "--langs", "de", "-n", "2", "-o", tmp.File("de.txt"), "-q");
        Assert.True(overridden.ExitCode == 0, overridden.Stderr);
        Assert.StartsWith("deutsches", File.ReadAllText(tmp.File("de.txt")));

        File.WriteAllText(tmp.File("bad.yaml"), "languages: [en]\nlanguage_typo: 3\n");
        var bad = CliProcess.Run("dataset", "--config", tmp.File("bad.yaml"), "-o", tmp.File("x.txt"));
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--config", bad.Stderr);
        Assert.Contains("language_typo", bad.Stderr);
    }

    [Fact]
    public void Token_interleaving_keeps_every_prefix_within_one_sample_of_the_shares()
    {
        List<IReadOnlyList<int>> tokens = [[100, 5, 5, 80, 7], [10, 10, 10, 10, 10, 10, 10, 10], [300, 1, 1]];
        double[] shares = [0.5, 0.25, 0.25];
        var order = TokenInterleave.Order(tokens, shares);
        Assert.Equal(16, order.Count);
        Assert.Equal(16, order.Distinct().Count());
        var written = new long[3];
        var next = new int[3];
        long total = 0;
        foreach (var (language, index) in order)
        {
            // Within a language, samples keep their selected order.
            Assert.Equal(next[language]++, index);
            written[language] += tokens[language][index];
            total += tokens[language][index];
            for (int l = 0; l < 3; l++)
                    Assert.True(written[l] - shares[l] * total <= tokens[l].Max(), $"language {l} is ahead by more than its longest sample");
        }
    }

    [Slow]
    [SkippableFact]
    public void Chunk_size_balances_the_languages_by_tokens_in_every_chunk()
    {
        string root = SharedAssets.RequireRoot();
        string mix = Path.Combine(root, "data", "polyglot", "mix.jsonl");
        Skip.IfNot(File.Exists(mix), "needs ../shared/data/polyglot/mix.jsonl");
        using var tmp = new TempDir();
        string[] Args(string output, params string[] extra) => ["dataset", "-s", $"jsonl:{mix}", "--lang-field", "lang", "--langs", "en,de,fr,es",
            "--weights", "en=2", "-n", "60", "-m", SharedAssets.TinyRandomLlama2, "-o", tmp.File(output), "--write-raw-samples", tmp.File(output + ".raw.jsonl"), "-q", .. extra];
        var plain = CliProcess.Run(Args("plain.txt"));
        Assert.True(plain.ExitCode == 0, plain.Stderr);
        var balanced = CliProcess.Run(Args("balanced.txt", "--chunk-size", "512"));
        Assert.True(balanced.ExitCode == 0, balanced.Stderr);

        using var counter = LlamaTokenCounter.Open(SharedAssets.TinyRandomLlama2);
        List<(string Lang, int Tokens)> Read(string name) => File.ReadAllLines(tmp.File(name + ".raw.jsonl"))
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Select(e => (e.GetProperty("lang").GetString()!, counter.CountTokens(e.GetProperty("text").GetString()!))).ToList();
        var before = Read("plain.txt");
        var after = Read("balanced.txt");
        Assert.Equal(before.Select(s => s.Tokens).Order(), after.Select(s => s.Tokens).Order());

        // The file's own mix of tokens per language is what every stretch of it should hold.
        long all = after.Sum(s => (long)s.Tokens);
        var shares = after.GroupBy(s => s.Lang).ToDictionary(g => g.Key, g => g.Sum(s => (double)s.Tokens) / all);
        Assert.Equal(4, shares.Count);
        double Worst(List<(string Lang, int Tokens)> samples)
        {
            // Largest gap between a language's tokens and its share, over every prefix, in units of the longest sample.
            int longest = samples.Max(s => s.Tokens);
            var written = shares.Keys.ToDictionary(k => k, _ => 0L);
            long total = 0;
            double worst = 0;
            foreach (var (lang, t) in samples)
            {
                written[lang] += t;
                total += t;
                if (written.Values.Any(v => v == 0)) continue;
                worst = Math.Max(worst, written.Max(w => Math.Abs(w.Value - shares[w.Key] * total)) / longest);
            }
            return worst;
        }
        Assert.True(Worst(after) <= 3, $"interleaved by tokens: a language strays {Worst(after):F2} longest samples from its share");
        Assert.True(Worst(after) < Worst(before), $"token interleaving ({Worst(after):F2}) must beat sample round robin ({Worst(before):F2})");

        var noModel = CliProcess.Run("dataset", "-s", $"jsonl:{mix}", "--lang-field", "lang", "--langs", "en,de", "--chunk-size", "512", "-o", tmp.File("x.txt"));
        Assert.Equal(2, noModel.ExitCode);
        Assert.Contains("--chunk-size", noModel.Stderr);
    }
}
