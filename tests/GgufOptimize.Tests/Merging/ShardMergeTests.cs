using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Imatrix;
using GgufOptimize.Kld;
using GgufOptimize.Logits;
using GgufOptimize.Merging;
using GgufOptimize.Synthetic;
using GgufOptimize.Tests.Support;
using Xunit.Abstractions;

namespace GgufOptimize.Tests.Merging;

/// <summary>
/// The synthetic tiny model's runs split 3 ways with --shard and merged equal one run over the whole text: byte for
/// byte for baselines and comparisons; for imatrices the counts exactly and the float32 sums to their last bits.
/// </summary>
public class ShardMergeTests : IClassFixture<ShardMergeTests.Inputs>
{
    private const int Shards = 3;
    private readonly Inputs _in;
    private readonly ITestOutputHelper _output;

    public ShardMergeTests(Inputs inputs, ITestOutputHelper output)
    {
        _in = inputs;
        _output = output;
    }

    /// <summary>Two synthetic models with the same tokenizer (other weights) and a text of 11 chunks of 32 tokens.</summary>
    public sealed class Inputs : IDisposable
    {
        public TempDir Dir { get; } = new();
        public string Model => Dir.File("model.gguf");
        public string Other => Dir.File("other.gguf");
        public string Text => Dir.File("text.txt");

        public Inputs()
        {
            var options = new SyntheticModelOptions { VocabSize = 512, EmbeddingLength = 64, LayerCount = 1, HeadCount = 2, ContextLength = 64, Seed = 11 };
            SyntheticModel.Write(Model, options);
            SyntheticModel.Write(Other, options with { Seed = 12 });
            var words = SyntheticVocabulary.Build(512).Tokens.Where(t => t.StartsWith(SyntheticVocabulary.SpaceMark) && t.Length > 2).ToArray();
            var random = new Random(3);
            File.WriteAllText(Text, string.Join(" ", Enumerable.Range(0, 330).Select(_ => words[random.Next(words.Length)][1..])));
        }

        public void Dispose() => Dir.Dispose();
    }

    private string Logits(string output, LogitsFormat format = LogitsFormat.Full, int precision = 32, ChunkShard? shard = null, string? model = null)
    {
        LogitsJob.Run(new LogitsJobOptions
        {
            ModelPath = model ?? _in.Model, DatasetPath = _in.Text, OutputPath = _in.Dir.File(output), ContextSize = 32, Threads = 1,
            Format = format, Precision = precision, Shard = shard,
        }, NullProgress.Instance, default);
        return _in.Dir.File(output);
    }

    private string Merge(string output, params string[] pieces)
    {
        MergeJob.Run(new MergeOptions { Output = _in.Dir.File(output), Pieces = pieces }, NullProgress.Instance);
        return _in.Dir.File(output);
    }

    private string[] ShardLogits(string name, LogitsFormat format = LogitsFormat.Full, int precision = 32) =>
        Enumerable.Range(0, Shards).Select(k => Logits($"{name}.{k}.h5", format, precision, new ChunkShard(k, Shards))).ToArray();

    [Theory]
    [InlineData("Full", 32)]
    [InlineData("Full", 16)]
    [InlineData("Compact", 32)]
    [InlineData("QuantizedCompact", 32)]
    public void Baseline_shards_merge_to_the_single_run_file_byte_for_byte(string formatName, int precision)
    {
        // The format travels as its name: xunit needs a public method and LogitsFormat is internal.
        var format = Enum.Parse<LogitsFormat>(formatName);
        string name = $"{format}{precision}";
        string single = Logits($"{name}.h5", format, precision);
        var pieces = ShardLogits(name, format, precision);
        Assert.All(pieces, p => Assert.NotEqual(File.ReadAllBytes(single), File.ReadAllBytes(p)));
        // Pieces in any order.
        string merged = Merge($"{name}.merged.h5", pieces[2], pieces[0], pieces[1]);
        Assert.Equal(File.ReadAllBytes(single), File.ReadAllBytes(merged));
        Assert.False(File.Exists(merged + ".partial"));
        Assert.Empty(Directory.GetFiles(_in.Dir.Path, "*.tmp"));
    }

    [Fact]
    public void Comparison_shards_merge_to_the_single_run_file_byte_for_byte()
    {
        string baseline = Logits("cmp-base.h5");
        KldJobResult Compare(string output, ChunkShard? shard) => KldJob.Run(new KldJobOptions
        {
            BaselineLogits = baseline, TargetModel = _in.Other, OutputFile = _in.Dir.File(output), Threads = 1, Shard = shard,
        }, NullProgress.Instance, default);

        var single = Compare("cmp.h5", null);
        Assert.True(single.Overall.Average > 0, "the two models must differ for the statistics to mean anything");
        var pieces = Enumerable.Range(0, Shards).Select(k => { Compare($"cmp.{k}.h5", new ChunkShard(k, Shards)); return _in.Dir.File($"cmp.{k}.h5"); }).ToArray();
        string merged = Merge("cmp.merged.h5", pieces);
        Assert.Equal(File.ReadAllBytes(_in.Dir.File("cmp.h5")), File.ReadAllBytes(merged));
        // The statistics are those of all tokens, not an average of the pieces' statistics.
        double averagedMedians = pieces.Select(p => GgufOptimize.Storage.KldOutputFile.Read(p)).Select(c => GgufOptimize.Metrics.KldStatistics.Compute(c.Chunks).Median).Average();
        Assert.NotEqual(averagedMedians, single.Overall.Median);
    }

    [Fact]
    public void Imatrix_shards_merge_with_counts_exact_and_sums_to_the_last_float32_bits()
    {
        ImatrixResult Run(string output, ChunkShard? shard) => ImatrixBuilder.Run(new ImatrixOptions
        {
            ModelPath = _in.Model, DatasetPath = _in.Text, OutputPath = _in.Dir.File(output), ContextSize = 32, Threads = 1, Shard = shard,
        }, NullProgress.Instance);

        Run("imatrix.gguf", null);
        var pieces = Enumerable.Range(0, Shards).Select(k => { Run($"imatrix.{k}.gguf", new ChunkShard(k, Shards)); return _in.Dir.File($"imatrix.{k}.gguf"); }).ToArray();
        string merged = Merge("imatrix.merged.gguf", pieces);

        var one = ImatrixFile.Load(_in.Dir.File("imatrix.gguf"));
        var all = ImatrixFile.Load(merged);
        var parts = pieces.Select(p => ImatrixFile.Load(p)).ToList();
        Assert.Null(one.Coverage);
        Assert.Null(all.Coverage); // the merge covers the whole text, like the single run: no range keys
        Assert.All(parts, p => Assert.NotNull(p.Coverage));
        Assert.Equal(one.ChunkCount, all.ChunkCount);
        Assert.Equal(one.ChunkSize, all.ChunkSize);
        Assert.Equal(one.Datasets, all.Datasets);
        Assert.Equal(one.Entries.Select(e => e.Name), all.Entries.Select(e => e.Name));
        int sums = 0, differing = 0;
        double worstUlps = 0;
        foreach (var e in one.Entries)
        {
            var m = all.Find(e.Name)!;
            Assert.Equal(e.Counts, m.Counts);
            for (int i = 0; i < e.Sums.Length; i++)
            {
                // What the merge adds: exactly the pieces' stored values, summed in float64 and stored as float32.
                double added = 0;
                foreach (var p in parts) added += p.Find(e.Name)!.Sums[i];
                Assert.Equal((float)added, (float)m.Sums[i]);
                // Against one run: each piece's sum was rounded to float32 once, so at most a few float32 ulps apart.
                double ulp = MathF.BitIncrement((float)e.Sums[i]) - (float)e.Sums[i];
                Assert.True(Math.Abs(m.Sums[i] - e.Sums[i]) <= Shards * ulp, $"{e.Name}[{i}]: {m.Sums[i]} vs {e.Sums[i]}");
                sums++;
                if (m.Sums[i] != e.Sums[i]) differing++;
                worstUlps = Math.Max(worstUlps, Math.Abs(m.Sums[i] - e.Sums[i]) / ulp);
            }
        }
        Assert.True(sums > 300, $"only {sums} sums compared");
        _output.WriteLine($"{differing} of {sums} merged sums differ from the single run's, by at most {worstUlps} float32 ulp");
    }

    [Fact]
    public void Gaps_overlaps_other_models_and_other_kinds_are_refused_naming_the_pieces()
    {
        var pieces = ShardLogits("refuse");
        string Refused(params string[] given)
        {
            var e = Assert.Throws<GgufOptimizeException>(() => Merge("refused.h5", given));
            Assert.Equal(FailureKind.BadInput, e.Kind);
            Assert.False(File.Exists(_in.Dir.File("refused.h5")));
            Assert.False(File.Exists(_in.Dir.File("refused.h5.partial")));
            return e.Message;
        }

        string gap = Refused(pieces[0], pieces[2]);
        Assert.Contains("missing", gap);
        Assert.Contains(pieces[0], gap);
        Assert.Contains(pieces[2], gap);

        string copy = _in.Dir.File("refuse.copy.h5");
        File.Copy(pieces[1], copy);
        string overlap = Refused(pieces[0], pieces[1], copy, pieces[2]);
        Assert.Contains("overlap", overlap);
        Assert.Contains(copy, overlap);

        string other = Logits("refuse.other.1.h5", shard: new ChunkShard(1, Shards), model: _in.Other);
        string mixed = Refused(pieces[0], other, pieces[2]);
        Assert.Contains("different inputs", mixed);
        Assert.Contains("model", mixed);

        string compact = Logits("refuse.compact.1.h5", LogitsFormat.QuantizedCompact, shard: new ChunkShard(1, Shards));
        string kinds = Refused(pieces[0], compact, pieces[2]);
        Assert.Contains("full baseline", kinds);
        Assert.Contains("compact baseline", kinds);
    }

    [Fact]
    public void The_cli_refuses_with_exit_2_and_one_line()
    {
        var pieces = ShardLogits("cli");
        var run = CliProcess.Run("merge", "-o", _in.Dir.File("cli.merged.h5"), pieces[0], pieces[2]);
        Assert.Equal(2, run.ExitCode);
        Assert.Single(run.Stderr.Trim().Split('\n'));
        Assert.Contains("missing", run.Stderr);

        var bad = CliProcess.Run("logits", "-m", _in.Model, "-d", _in.Text, "-o", _in.Dir.File("x.h5"), "--shard", "3/3");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--shard", bad.Stderr);

        var ok = CliProcess.Run("merge", "-o", _in.Dir.File("cli.merged.h5"), "--json", pieces[0], pieces[1], pieces[2]);
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        Assert.Contains("\"FullBaseline\"", ok.Stdout.Replace(" ", ""));
    }
}
