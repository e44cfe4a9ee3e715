using System.Text.Json;
using GgufOptimize.Common;
using GgufOptimize.Kld;
using GgufOptimize.Logits;
using GgufOptimize.Metrics;
using GgufOptimize.Quantization;
using GgufOptimize.Storage;
using GgufOptimize.Storage.Formats;
using GgufOptimize.Storage.Formats.Compact;
using GgufOptimize.Synthetic;
using GgufOptimize.Tests.Reliability;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Storage.Formats;

/// <summary>
/// The quantized compact format (compact-3, and compact-2 files written before it) as <c>logits --format compact</c> writes it: through real llama.cpp on a
/// realistic synthetic model and its Q4_0, its per-position bound holds on every position, kld through it agrees with
/// the float32 path within that bound (target as a model and as stored logits), and the file describes itself.
/// </summary>
public class QuantizedFormatTests
{
    private const int Context = 128;

    private sealed class Realistic : IDisposable
    {
        public readonly TempDir Dir = new();
        public string Model => Dir.File("m.gguf");
        public string Text => Dir.File("text.txt");
        public string Target = "";

        public Realistic(bool flat = false)
        {
            SyntheticModel.Write(Model, (flat ? SyntheticModelOptions.Flat(4096) : SyntheticModelOptions.Realistic(4096)) with { ContextLength = 256 });
            File.WriteAllText(Text, SyntheticVocabulary.Build(4096).RandomWords(700, 5));
            Target = ModelQuantizer.Run(new QuantizeOptions
            {
                ModelPath = Model, OutputDirectory = Dir.Path, Types = [QuantizationTypes.Parse("Q4_0")], Threads = 1,
            }, NullProgress.Instance).Single().OutputPath;
        }

        public LogitsJobResult Logits(string model, string output, LogitsFormat format, int? to = null, QuantizedRowSettings? settings = null) => LogitsJob.Run(new LogitsJobOptions
        {
            ModelPath = model, DatasetPath = Text, OutputPath = Dir.File(output), ContextSize = Context, Format = format, Threads = 1, ToChunk = to, QuantizedSettings = settings,
        }, NullProgress.Instance, default);

        public void Dispose() => Dir.Dispose();
    }

    /// <param name="format">compact-4 (the default), compact-3 or compact-2 (files written before it, still read).</param>
    /// <param name="flat">A flat model instead of the realistic one: compact-4 codes most of its rows with the fine tier.</param>
    [Slow]
    [Theory]
    [InlineData("gguf-optimize-compact-4", false)]
    [InlineData("gguf-optimize-compact-4", true)]
    [InlineData("gguf-optimize-compact-3", false)]
    [InlineData("gguf-optimize-compact-2", false)]
    public void Every_position_of_a_real_target_stays_within_the_stated_bound_and_kld_agrees_with_float32(string format, bool flat)
    {
        using var r = new Realistic(flat);
        var settings = format switch
        {
            QuantizedLayout.FormatName => QuantizedRowSettings.Compact2,
            QuantizedLayout.FormatName3 => QuantizedRowSettings.Compact3,
            _ => QuantizedRowSettings.Default,
        };
        r.Logits(r.Model, "full.h5", LogitsFormat.Full);
        r.Logits(r.Model, "compact.h5", LogitsFormat.QuantizedCompact, settings: settings);
        r.Logits(r.Target, "target.h5", LogitsFormat.Full);
        string compact = r.Dir.File("compact.h5");
        Assert.Equal(StoredLogitsKind.QuantizedCompact, StoredBaselines.Detect(compact));
        using (var opened = QuantizedBaselineReader.Open(compact))
        {
            Assert.Equal(format, opened.Format);
            Assert.Equal(settings, opened.Settings);
        }
        Assert.False(File.Exists(compact + ".partial"));

        int positions = 0, errors = 0, violations = 0, violationsWithoutQuantization = 0, violationsWithoutKappa = 0, fineRows = 0;
        double worstRatio = 0, meanBound = 0;
        using (var full = BaselineLogitsReader.Open(r.Dir.File("full.h5")))
        using (var target = BaselineLogitsReader.Open(r.Dir.File("target.h5")))
        using (var reader = QuantizedBaselineReader.Open(compact))
        {
            Assert.True(reader.TotalChunks >= 2, "the text should make at least two chunks");
            Assert.InRange(reader.MaxTotalVariation, 1e-9, 0.05);
            for (int c = 0; c < reader.TotalChunks; c++)
            {
                var tokens = reader.ChunkTokens(c);
                Assert.Equal(full.ChunkTokens(c), tokens);
                var q = LogitRows.Of(target.ChunkLogits(c).ToArray(), reader.VocabSize);
                var exact = ((IStoredBaseline)new FullRowsBaseline(full, StoredLogitsKind.Full, full.Header, "", full.ProcessedCount)).Score(c, q, tokens, 0);
                var bounds = new double[tokens.Length - 1];
                var decoded = reader.Score(c, q, tokens, 0, 1, bounds);
                var p = full.ChunkLogits(c);
                int n = reader.VocabSize;
                for (int i = 0; i < bounds.Length; i++)
                {
                    double error = Math.Abs(decoded.Kld[i] - exact.Kld[i]);
                    positions++;
                    meanBound += bounds[i];
                    if (error > 1e-12) errors++;
                    if (error > bounds[i] + 1e-12) violations++;
                    worstRatio = Math.Max(worstRatio, error / bounds[i]);
                    Assert.Equal(exact.LogProbBase[i], decoded.LogProbBase[i], 1e-9);
                    Assert.Equal(exact.SameTop[i], decoded.SameTop[i]);
                    // The bound with the exact S is never larger than the file's: the file's S is an upper bound of it.
                    double exactS = QuantizedErrorBound.LogRatioSpread(p.Slice(i * n, n), q.Row(i, new float[n]));
                    var rowBytes = RowOf(reader, c, i);
                    var h = QuantizedChunk.ReadHeader(rowBytes);
                    if (settings.HasTiers && QuantizedChunk.SettingsOf(rowBytes, settings) == settings.Fine) fineRows++;
                    Assert.True(QuantizedErrorBound.Of(h.TailMass, 0, 0, exactS) <= bounds[i] * (1 + 1e-9), $"chunk {c} position {i}: the file's S is below the exact one");
                    // Without τ and κ the bound would miss the quantization's share somewhere: this check can fail.
                    if (error > h.TailMass * exactS + 1e-12) violationsWithoutQuantization++;
                    // compact-3 subtracts each row's D = Σ P̂·log(P̂/P): what is left is the tail term and Σ (P − P̂)(r − c), so
                    // its error is within the bound even without κ.
                    if (settings.HasCorrection && error > bounds[i] - reader.Record(c).DecodedDivergence + 1e-12) violationsWithoutKappa++;
                }
            }
        }
        Assert.Equal(0, violations);
        // The flat model's rows keep most of the vocabulary: compact-4 refines them; the realistic model's chunks stay coarse.
        if (flat) Assert.True(fineRows > positions / 2, $"only {fineRows} of {positions} flat positions were coded with the fine tier");
        else Assert.True(fineRows < positions / 10, $"{fineRows} of {positions} realistic positions were coded with the fine tier");
        Assert.True(errors > positions / 10, $"only {errors} of {positions} positions changed: the check would not see a broken bound");
        Assert.Equal(0, violationsWithoutKappa);
        // compact-2 has no correction, so its quantization error shows beyond the tail term and the τ/κ part is exercised
        // here; compact-3's error is mostly the tail term's on this small peaked model (its τ part: QuantizedCompactTests).
        if (!settings.HasCorrection) Assert.True(violationsWithoutQuantization > 0, "the tail term alone covers every error: the τ/κ part of the bound is not being tested");
        meanBound /= positions;

        // kld through the file: against the target model and against its stored logits, the mean within the mean bound of float32's.
        var exactRun = KldJob.Run(new KldJobOptions { BaselineLogits = r.Dir.File("full.h5"), TargetModel = r.Target, OutputFile = r.Dir.File("a.h5"), Threads = 1 }, NullProgress.Instance, default);
        var viaModel = KldJob.Run(new KldJobOptions { BaselineLogits = compact, TargetModel = r.Target, OutputFile = r.Dir.File("b.h5"), Threads = 1 }, NullProgress.Instance, default);
        var viaLogits = KldJob.Run(new KldJobOptions { BaselineLogits = compact, TargetLogits = r.Dir.File("target.h5"), OutputFile = r.Dir.File("c.h5"), Threads = 1 }, NullProgress.Instance, default);
        foreach (var run in new[] { viaModel, viaLogits })
        {
            Assert.True(Math.Abs(run.Overall.Average - exactRun.Overall.Average) <= meanBound, $"mean {run.Overall.Average} vs float32 {exactRun.Overall.Average}, bound {meanBound}");
            Assert.True(Math.Abs(run.Overall.Average - exactRun.Overall.Average) <= 1e-3 * exactRun.Overall.Average);
            Assert.Equal(exactRun.Overall.Median, run.Overall.Median, exactRun.Overall.Median * 1e-3);
        }
        Assert.Equal(viaModel.Overall.Average, viaLogits.Overall.Average, 1e-9);
    }

    private static byte[] RowOf(QuantizedBaselineReader reader, int chunk, int row)
    {
        var loaded = new QuantizedChunk();
        loaded.Load(reader.Record(chunk).Blob);
        return loaded.Row(row).ToArray();
    }

    [Slow]
    [Fact]
    public void A_file_extended_with_more_chunks_equals_one_written_at_once_and_info_describes_it()
    {
        using var r = new Realistic();
        r.Logits(r.Model, "part.h5", LogitsFormat.QuantizedCompact, to: 1);
        var second = r.Logits(r.Model, "part.h5", LogitsFormat.QuantizedCompact);
        Assert.Equal(1, second.ChunksAlreadyDone);
        r.Logits(r.Model, "all.h5", LogitsFormat.QuantizedCompact);
        Assert.Equal(File.ReadAllBytes(r.Dir.File("all.h5")), File.ReadAllBytes(r.Dir.File("part.h5")));

        var text = CliProcess.Run("logits", "--info", r.Dir.File("all.h5"));
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.Contains("gguf-optimize-compact-4", text.Stdout);
        Assert.Contains("(ε + τ)·S + κ", text.Stdout);
        Assert.Contains("n_vocab 4096", text.Stdout);
        Assert.Contains("bytes per stored position", text.Stdout);

        var json = CliProcess.Run("logits", "--info", r.Dir.File("all.h5"), "--json");
        Assert.True(json.ExitCode == 0, json.Stderr);
        using var doc = JsonDocument.Parse(json.Stdout);
        var root = doc.RootElement;
        long positions = root.GetProperty("storedPositions").GetInt64();
        long bytes = root.GetProperty("bytes").GetInt64();
        Assert.Equal(new FileInfo(r.Dir.File("all.h5")).Length, bytes);
        Assert.True(positions > Context);
        Assert.Equal((double)bytes / positions, root.GetProperty("bytesPerPosition").GetDouble(), 1e-6);
        Assert.Equal(QuantizedRowSettings.Default.TailMass, root.GetProperty("tailMass").GetDouble());
        // Smaller than float16 rows of the same positions, by far, on a peaked model.
        Assert.True(bytes < positions * 2L * 4096 / 4, $"{bytes} bytes for {positions} positions");

        var missing = CliProcess.Run("logits", "-o", r.Dir.File("x.h5"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--info", Assert.Single(missing.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }
}
