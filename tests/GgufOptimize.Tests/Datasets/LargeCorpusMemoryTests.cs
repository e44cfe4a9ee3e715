using System.Text;
using GgufOptimize.Datasets;
using GgufOptimize.Datasets.Output;
using GgufOptimize.Datasets.Sources;
using GgufOptimize.Tests.Support;
using Xunit.Abstractions;

namespace GgufOptimize.Tests.Datasets;

[CollectionDefinition(nameof(LargeCorpusMemory), DisableParallelization = true)]
public sealed class LargeCorpusMemory;

/// <summary>
/// Streams a generated 1 GiB JSONL corpus to the end (--shuffle reads everything) and checks, with the GC's own
/// heap counters sampled during the run, that memory stays bounded by the selection and not by the corpus.
/// Runs alone so no other test's allocations are counted.
/// </summary>
[Collection(nameof(LargeCorpusMemory))]
public class LargeCorpusMemoryTests(ITestOutputHelper output)
{
    private const long CorpusBytes = 1L << 30;
    private const long Budget = 200L << 20;

    private sealed class HeapSampler : ProgressRecorder
    {
        public long PeakTotalMemory;
        public long PeakHeapSize;
        public int Samples;

        public override void Report(long done, long tokens = 0)
        {
            Samples++;
            PeakTotalMemory = Math.Max(PeakTotalMemory, GC.GetTotalMemory(false));
            PeakHeapSize = Math.Max(PeakHeapSize, GC.GetGCMemoryInfo(GCKind.Any).HeapSizeBytes);
        }
    }

    [Slow]
    [Fact]
    public async Task One_gigabyte_jsonl_streams_within_200_MB()
    {
        using var tmp = new TempDir();
        string corpus = tmp.File("big.jsonl");
        long lines = Generate(corpus);
        Assert.True(new FileInfo(corpus).Length >= CorpusBytes);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        long baseline = GC.GetTotalMemory(forceFullCollection: true);
        var sampler = new HeapSampler();
        var request = new DatasetRequest
        {
            Sources = [new JsonLinesSource(corpus, JsonFieldPath.Parse("text"), JsonFieldPath.Parse("lang", "--lang-field"))],
            Languages = ["en", "es", "ca"],
            Subsets = [1000, 5000],
            Shuffle = true,
            Seed = 1,
        };
        var manifest = await DatasetBuilder.BuildAsync(request, DatasetOutput.ToDirectory(tmp.File("out")), sampler);
        sampler.Report(0);
        File.Delete(corpus);

        Assert.Equal(CorpusBytes, manifest.Sources[0].Bytes, tolerance: 4096);
        Assert.Equal(lines, manifest.Sources[0].Records);
        Assert.Equal(15000, manifest.Subsets[^1].Samples);
        Assert.True(sampler.Samples > 500, $"only {sampler.Samples} memory samples");
        long peak = Math.Max(sampler.PeakTotalMemory, sampler.PeakHeapSize) - baseline;
        output.WriteLine($"{lines} lines; managed heap peak {peak >> 20} MiB above a {baseline >> 20} MiB baseline over {sampler.Samples} samples; " +
                         $"gen2 collections {GC.CollectionCount(2)}; selected {manifest.Subsets[^1].Samples} samples");
        Assert.True(peak < Budget, $"managed heap grew by {peak >> 20} MiB while streaming 1 GiB (limit {Budget >> 20} MiB)");
    }

    /// <summary>About 1 KB per line: language, a unique counter and random fragments (some non-ASCII).</summary>
    private static long Generate(string path)
    {
        var random = new Random(12345);
        string[] words = ["alpha", "beta", "gamma", "delta", "río", "casa", "ciutat", "nit", "über", "naïve", "data", "model", "token", "layer", "weight", "quant"];
        var fragments = Enumerable.Range(0, 512)
            .Select(_ => string.Join(' ', Enumerable.Range(0, 14).Select(_ => words[random.Next(words.Length)]))).ToArray();
        string[] langs = ["en", "es", "ca", "en", "es"];
        using var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        var line = new StringBuilder(1200);
        var bytes = new byte[4096];
        long written = 0, count = 0;
        while (written < CorpusBytes)
        {
            string lang = langs[random.Next(langs.Length)];
            line.Clear().Append("{\"text\":\"").Append(lang).Append(' ').Append(count);
            for (int i = 0; i < 11; i++) line.Append(' ').Append(fragments[random.Next(fragments.Length)]);
            line.Append("\",\"lang\":\"").Append(lang).Append("\"}\n");
            int n = Encoding.UTF8.GetBytes(line.ToString(), bytes);
            if (written + n > CorpusBytes)
            {
                // Pad the last line's text so the file is exactly 1 GiB.
                int pad = (int)(CorpusBytes - written);
                n = Encoding.UTF8.GetBytes($"{{\"text\":\"{lang} {count} {new string('x', Math.Max(0, pad - 30 - lang.Length * 2 - count.ToString().Length))}\",\"lang\":\"{lang}\"}}\n", bytes);
            }
            output.Write(bytes, 0, n);
            written += n;
            count++;
        }
        return count;
    }
}
