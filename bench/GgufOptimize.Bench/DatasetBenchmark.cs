using System.Text;
using GgufOptimize.Common;
using GgufOptimize.Datasets;
using GgufOptimize.Datasets.Output;
using GgufOptimize.Datasets.Sources;

namespace GgufOptimize.Bench;

/// <summary>
/// Dataset selection throughput on a generated JSONL corpus (page-cached after generation): the raw line scan
/// (floor), --count-only (parse, hash, distinct set), --shuffle selection (reads everything) and source-order
/// selection (stops once every language has its share), with the peak managed heap of the shuffle run.
/// </summary>
public sealed class DatasetBenchmark : IBenchmark
{
    public string Name => "dataset";
    public string Description => "dataset selection throughput on generated JSONL [--mb 256] [--reps 3] [--samples 2000]";

    public int Run(string[] args)
    {
        var options = new BenchArgs(args);
        int mb = options.Int("mb", 256), reps = options.Int("reps", 3), samples = options.Int("samples", 2000);
        string folder = Directory.CreateTempSubdirectory("ggufopt-bench-dataset-").FullName;
        try
        {
            string corpus = Path.Combine(folder, "corpus.jsonl");
            long lines = Generate(corpus, (long)mb << 20);
            long bytes = new FileInfo(corpus).Length;
            Console.WriteLine($"corpus: {bytes / 1e6:F0} MB, {lines} lines (~{bytes / lines} B), languages en/es/ca; selecting {samples} per language");

            var scan = Stopwatches.Measure(() =>
            {
                using var stream = new FileStream(corpus, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
                var reader = new Utf8LineReader(stream, SourceReadContext.DefaultMaxSampleBytes);
                while (reader.ReadLine(out _, out _)) { }
            }, reps);
            DatasetRequest Request(bool shuffle) => new()
            {
                Sources = [new JsonLinesSource(corpus, JsonFieldPath.Parse("text"), JsonFieldPath.Parse("lang", "--lang-field"))],
                Languages = ["en", "es", "ca"],
                NumSamples = samples,
                Shuffle = shuffle,
                Seed = 1,
            };
            var count = Stopwatches.Measure(() => DatasetBuilder.CountAsync(Request(false), NullProgress.Instance).GetAwaiter().GetResult(), reps);
            var heap = new HeapWatch();
            var output = DatasetOutput.ToFile(Path.Combine(folder, "out.txt"), existing: ExistingOutputMode.Overwrite);
            GC.Collect();
            long baseline = GC.GetTotalMemory(true);
            var shuffled = Stopwatches.Measure(() => DatasetBuilder.BuildAsync(Request(true), output, heap).GetAwaiter().GetResult(), reps);
            var ordered = Stopwatches.Measure(() => DatasetBuilder.BuildAsync(Request(false), output, NullProgress.Instance).GetAwaiter().GetResult(), reps);

            void Row(string what, Stopwatches.Timing t, long read) =>
                Console.WriteLine($"{what,-38} best {t.BestSeconds,7:F3} s  median {t.MedianSeconds,7:F3} s  {read / 1e6 / t.BestSeconds,8:F0} MB/s");
            Row("line scan (floor)", scan, bytes);
            Row("count-only (parse, hash, distinct)", count, bytes);
            Row("shuffle selection (reads all)", shuffled, bytes);
            Console.WriteLine($"{"source-order selection (stops early)",-38} best {ordered.BestSeconds,7:F3} s  median {ordered.MedianSeconds,7:F3} s");
            Console.WriteLine($"peak managed heap during the shuffle runs: {(heap.Peak - baseline) / 1e6:F1} MB above a {baseline / 1e6:F1} MB baseline");
            return 0;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private sealed class HeapWatch : IProgressSink
    {
        public long Peak;
        public void Start(string description, long total) { }
        public void Report(long done, long tokens = 0) => Peak = Math.Max(Peak, GC.GetTotalMemory(false));
        public void Info(string message) { }
        public void Warn(string message) { }
        public void Finish() { }
    }

    private static long Generate(string path, long size)
    {
        var random = new Random(7);
        string[] words = ["alpha", "beta", "gamma", "río", "casa", "ciutat", "nit", "über", "data", "model", "token", "layer", "weight"];
        var fragments = Enumerable.Range(0, 512).Select(_ => string.Join(' ', Enumerable.Range(0, 14).Select(_ => words[random.Next(words.Length)]))).ToArray();
        string[] langs = ["en", "es", "ca"];
        using var output = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        var line = new StringBuilder(1200);
        long written = 0, count = 0;
        while (written < size)
        {
            string lang = langs[random.Next(langs.Length)];
            line.Clear().Append("{\"text\":\"").Append(lang).Append(' ').Append(count);
            for (int i = 0; i < 11; i++) line.Append(' ').Append(fragments[random.Next(fragments.Length)]);
            line.Append("\",\"lang\":\"").Append(lang).Append("\"}\n");
            output.Write(line);
            written += Encoding.UTF8.GetByteCount(line.ToString());
            count++;
        }
        return count;
    }
}
