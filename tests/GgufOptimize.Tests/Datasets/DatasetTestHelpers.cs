using System.Security.Cryptography;
using System.Text.Json;
using GgufOptimize.Common;
using GgufOptimize.Datasets;
using GgufOptimize.Datasets.Output;
using GgufOptimize.Datasets.Selection;
using GgufOptimize.Datasets.Sources;

namespace GgufOptimize.Tests.Datasets;

internal static class DatasetTestHelpers
{
    /// <summary>A JSONL corpus with the given number of samples per language, languages interleaved irregularly.</summary>
    public static string WriteCorpus(string path, IReadOnlyDictionary<string, int> perLanguage, int seed = 1)
    {
        var random = new Random(seed);
        var left = perLanguage.ToDictionary(kv => kv.Key, kv => kv.Value);
        var counters = perLanguage.Keys.ToDictionary(k => k, _ => 0);
        using var writer = new StreamWriter(path);
        while (left.Values.Any(v => v > 0))
        {
            var open = left.Where(kv => kv.Value > 0).Select(kv => kv.Key).ToList();
            string lang = open[random.Next(open.Count)];
            left[lang]--;
            int i = counters[lang]++;
            string text = $"{lang} sample {i}: " + string.Join(' ', Enumerable.Range(0, 3 + random.Next(12)).Select(_ => Words[random.Next(Words.Length)]));
            writer.WriteLine(JsonSerializer.Serialize(new { text, lang }));
        }
        return path;
    }

    private static readonly string[] Words = ["alpha", "beta", "gamma", "delta", "río", "casa", "ciutat", "nit", "über", "naïve", "日本", "data", "model", "token"];

    public static DatasetRequest Request(string corpus, long? num = null, IReadOnlyList<long>? subsets = null, bool shuffle = false, long seed = 0,
        long skip = 0, IReadOnlyList<string>? langs = null, IReadOnlyDictionary<string, double>? weights = null) => new()
    {
        Sources = [new JsonLinesSource(corpus, JsonFieldPath.Parse("text"), JsonFieldPath.Parse("lang", "--lang-field"))],
        Languages = langs ?? ["en", "es", "ca"],
        Weights = weights,
        NumSamples = num,
        Subsets = subsets,
        Shuffle = shuffle,
        Seed = seed,
        SkipSamples = skip,
    };

    /// <summary>Samples of a text-format dataset file, in order.</summary>
    public static List<string> ReadSamples(string path)
    {
        string all = File.ReadAllText(path);
        return all.Length == 0 ? [] : all.TrimEnd('\n').Split("\n\n").ToList();
    }

    public static string LanguageOf(string sample) => sample[..sample.IndexOf(' ')];

    public static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
}

/// <summary>Counts whitespace-separated words as tokens: a stand-in tokenizer for selection logic tests.</summary>
internal sealed class WordTokenCounter : ITokenCounter
{
    public string Identity => "words";
    public int CountTokens(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
}

internal sealed class RecordingProgress : ProgressRecorder;

/// <summary>A progress sink that keeps warnings; subclasses can watch Report calls.</summary>
internal class ProgressRecorder : IProgressSink
{
    public List<string> Warnings { get; } = [];
    public void Start(string description, long total) { }
    public virtual void Report(long done, long tokens = 0) { }
    public void Info(string message) { }
    public void Warn(string message) => Warnings.Add(message);
    public void Finish() { }
}
