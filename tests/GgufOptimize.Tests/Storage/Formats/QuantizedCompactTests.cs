using GgufOptimize.Common;
using GgufOptimize.Chunking;
using GgufOptimize.Engine;
using GgufOptimize.Metrics;
using GgufOptimize.Quantization;
using GgufOptimize.Storage.Formats.Compact;
using GgufOptimize.Synthetic;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Storage.Formats;

/// <summary>The quantized compact encoding: its stated error bound checked against exact KLD on llama.cpp rows.</summary>
public class QuantizedCompactTests
{
    [Fact]
    public void Codes_stay_within_their_step_and_varints_round_trip()
    {
        var s = QuantizedRowSettings.Compact2;
        foreach (double logP in new[] { -1e-9, -0.01, -0.7, -3, -9, -Math.Log(1 / s.Knee), -14, -25, -60 })
        {
            double back = s.Value(s.Code(logP));
            double p = Math.Exp(logP);
            if (p >= s.Knee) Assert.InRange(Math.Abs(Math.Exp(back) - p), 0, s.ProbabilityStep / 2 + 1e-15);
            else Assert.InRange(Math.Abs(back - logP), 0, s.MaxLogStep / 2 + 1e-12);
        }
        var buffer = new byte[5];
        foreach (int v in new[] { 0, 1, -1, 63, -64, 1 << 20, int.MinValue + 1, int.MaxValue })
        {
            int n = Varint.Write(buffer, Varint.ZigZag(v));
            int o = 0;
            Assert.Equal(v, Varint.UnZigZag(Varint.Read(buffer, ref o)));
            Assert.Equal(n, o);
        }
    }

    /// <summary>compact-3's second knee: codes stay monotone, each value within Δ/2 above the second knee and Δ₂/2 below it, and MaxLogError covers both.</summary>
    [Theory]
    [InlineData(3e-4, 4e-6, 0.2, 4e-6, 1.0)]
    [InlineData(2e-4, 2e-6, 0.1, 2e-6, 2.0)]
    [InlineData(1e-4, 1e-6, 0.05, 3e-7, 0.5)]
    public void Second_knee_codes_are_monotone_and_within_half_their_step(double eps, double rho, double step, double knee2, double step2)
    {
        var s = new QuantizedRowSettings(eps, rho, step, knee2, step2);
        Assert.Null(s.Problem());
        Assert.True(s.HasSecondKnee);
        Assert.Equal(Math.Max(step, step2), s.MaxLogError);
        var map = new QuantizedCodeMap(s);
        int previous = int.MaxValue;
        for (double logP = -1e-9; logP > -80; logP -= 0.013)
        {
            int code = s.Code(logP);
            Assert.True(code <= previous, $"code {code} after {previous} at log P {logP}: not monotone");
            previous = code;
            double back = s.Value(code);
            Assert.Equal(back, map.Value(code), 1e-12);
            if (Math.Exp(logP) < s.Knee) Assert.Equal(code, map.LogCode(logP));
            double p = Math.Exp(logP);
            if (p >= s.Knee) Assert.InRange(Math.Abs(Math.Exp(back) - p), 0, rho / 2 + 1e-15);
            else if (logP >= s.SecondBoundary) Assert.InRange(Math.Abs(back - logP), 0, step / 2 + 1e-12);
            else Assert.InRange(Math.Abs(back - logP), 0, step2 / 2 + 1e-12);
        }
        // Below the second knee the codes really are coarser: 10 nats take about 10/Δ₂ codes, not 10/Δ.
        int span = s.Code(Math.Log(knee2) - 2) - s.Code(Math.Log(knee2) - 12);
        Assert.InRange(span, 10 / step2 - 2, 10 / step2 + 2);
        Assert.NotNull(new QuantizedRowSettings(eps, rho, step, s.Knee * 2, step2).Problem());
        Assert.NotNull(new QuantizedRowSettings(eps, rho, step, knee2, step / 2).Problem());
    }

    /// <summary>The binned selection keeps exactly the tokens the sorting definition keeps (compact-1's), on peaked, flat and tied rows.</summary>
    [Fact]
    public void The_binned_selection_keeps_the_same_tokens_as_a_full_sort()
    {
        var random = new Random(7);
        foreach (double eps in new[] { 1e-2, 1e-4, 1e-6 })
        {
            // One selector for all rows of an ε: it starts a row after a wide one with the deep cut, which must not change what it keeps.
            var selector = new QuantizedRowSelector(eps);
            for (int trial = 0; trial < 30; trial++)
            {
                int vocab = trial % 3 == 0 ? 5000 : 700;
                var row = GgufOptimize.Tests.Metrics.LogitGenerator.Gaussian(random, vocab);
                double scale = trial % 5 == 0 ? 0.3 : 1 + trial % 7 * 2;
                for (int i = 0; i < vocab; i++) row[i] = (float)(row[i] * scale);
                if (trial % 4 == 0) for (int i = 0; i < vocab; i += 3) row[i] = MathF.Round(row[i]);
                float max = System.Numerics.Tensors.TensorPrimitives.Max(row);
                var ids = new int[16];
                // The selector sums the mass below its cut in single precision (relative error ≤ BelowSumError) and
                // keeps the tail under ε less that error, so the exact tail stays ≤ ε.
                double error = QuantizedRowSelector.BelowSumError;
                var (count, logNorm, tail) = new CompactRowEncoder(eps * (1 - error)).SelectTop(row, max, ref ids);
                selector.Select(row, max);
                Assert.Equal(ids.AsSpan(0, count).ToArray().Order(), selector.Ids.ToArray());
                Assert.Equal(logNorm, selector.LogNorm, 1e-13 + error * tail);
                Assert.Equal(tail, selector.Tail, 1e-15 + 2 * error * tail);
                Assert.InRange(tail, 0, eps);
                for (int k = 0; k < count; k++)
                    Assert.Equal(Math.Exp(row[selector.Ids[k]] - logNorm), selector.P[k], 1e-13 + 2 * error * tail * selector.P[k]);
            }
        }
    }

    /// <summary>compact-4's rule: a wide row is refined only once wide rows are at least half of the chunk so far (after the narrow prior), and a new chunk starts afresh.</summary>
    [Fact]
    public void The_tier_rule_refines_wide_rows_of_mostly_wide_chunks_only()
    {
        var rule = new QuantizedTierRule(QuantizedRowSettings.Default, 1000);
        // 20 % of 1000 = 200 kept tokens makes a row wide. A flat chunk: the first three rows stay coarse (prior), then every wide row is fine.
        var flat = Enumerable.Range(0, 10).Select(_ => rule.Next(600)).ToArray();
        Assert.Equal([0, 0, 0, 1, 1, 1, 1, 1, 1, 1], flat);
        Assert.Equal(0, rule.Next(199));
        rule.StartChunk();
        // A peaked chunk: a few wide rows among narrow ones never switch.
        var peaked = Enumerable.Range(0, 40).Select(j => rule.Next(j % 5 == 0 ? 900 : 20)).ToArray();
        Assert.All(peaked, t => Assert.Equal(0, t));
        // Without a fine tier nothing is ever refined.
        var one = new QuantizedTierRule(QuantizedRowSettings.Compact3, 1000);
        Assert.All(Enumerable.Range(0, 10).Select(_ => one.Next(1000)), t => Assert.Equal(0, t));
    }

    /// <summary>
    /// Through the encoder: a flat chunk is coded with the fine tier (finer values, tier byte 1), a peaked chunk exactly as
    /// compact-3 codes it (same tokens, values and D), and the per-row bound ingredients stay valid for both.
    /// </summary>
    [Fact]
    public void A_flat_chunk_gets_the_fine_tier_and_a_peaked_chunk_is_coded_as_compact_3()
    {
        var random = new Random(11);
        const int vocab = 3000, rows = 24;
        var flat = Enumerable.Range(0, rows).Select(_ => GgufOptimize.Tests.Metrics.LogitGenerator.Gaussian(random, vocab, scale: 0.8, spikes: 0)).ToArray();
        var peaked = Enumerable.Range(0, rows).Select(_ =>
        {
            // Two tokens at 17 and 15 nats over a Gaussian body (σ 2): the body's top few hundred tokens hold the last ~ε of the mass.
            var row = GgufOptimize.Tests.Metrics.LogitGenerator.Gaussian(random, vocab, scale: 2.0, spikes: 0);
            row[random.Next(vocab)] = 17;
            row[random.Next(vocab)] = 15;
            return row;
        }).ToArray();

        var (flatChunk, flatEncoder) = EncodeRows(flat, QuantizedRowSettings.Default);
        Assert.Equal(rows - 3, flatEncoder.FineRows);
        var (coarseChunk, _) = EncodeRows(flat, QuantizedRowSettings.Compact3);
        Assert.Null(flatChunk.Validate(vocab, rows - 1, QuantizedRowSettings.Default));
        double fineError = 0, coarseError = 0;
        for (int j = 0; j < rows; j++)
        {
            var row = flatChunk.Row(j);
            Assert.Equal(j >= 3 ? QuantizedRowSettings.FineTier : QuantizedRowSettings.Default, QuantizedChunk.SettingsOf(row, QuantizedRowSettings.Default));
            if (j < 3) continue;
            fineError += DecodedError(flat[j], row, QuantizedRowSettings.Default);
            coarseError += DecodedError(flat[j], coarseChunk.Row(j), QuantizedRowSettings.Compact3);
        }
        // ρ 1e-6 against 4e-6 on these rows' probabilities (all above both knees): about 4× closer.
        Assert.True(fineError < coarseError / 3, $"fine tier's decoded error {fineError} is not well below compact-3's {coarseError}");

        var (peakedChunk, peakedEncoder) = EncodeRows(peaked, QuantizedRowSettings.Default);
        var (compact3, _) = EncodeRows(peaked, QuantizedRowSettings.Compact3);
        Assert.Equal(0, peakedEncoder.FineRows);
        var ids3 = new int[vocab];
        var ids4 = new int[vocab];
        var lp3 = new double[vocab];
        var lp4 = new double[vocab];
        for (int j = 0; j < rows; j++)
        {
            var row4 = peakedChunk.Row(j);
            var row3 = compact3.Row(j);
            Assert.InRange(QuantizedChunk.ReadHeader(row3).Count, 3, vocab / 5 - 1); // sparse, with body tokens coded
            Assert.Equal(0, row4[^1]);
            Assert.Equal(row3.ToArray(), row4[..^1].ToArray());
            int n3 = QuantizedChunk.DecodeSparse(row3, QuantizedRowSettings.Compact3, ids3, lp3);
            int n4 = QuantizedChunk.DecodeSparse(row4, QuantizedRowSettings.Default, ids4, lp4);
            Assert.Equal(ids3.AsSpan(0, n3).ToArray(), ids4.AsSpan(0, n4).ToArray());
            Assert.Equal(lp3.AsSpan(0, n3).ToArray(), lp4.AsSpan(0, n4).ToArray());
            Assert.Equal(QuantizedChunk.Correction(row3, QuantizedRowSettings.Compact3), QuantizedChunk.Correction(row4, QuantizedRowSettings.Default));
        }
    }

    private static (QuantizedChunk Chunk, QuantizedChunkEncoder Encoder) EncodeRows(float[][] rows, QuantizedRowSettings settings) =>
        EncodeRows(rows, settings, out _);

    private static (QuantizedChunk Chunk, QuantizedChunkEncoder Encoder) EncodeRows(float[][] rows, QuantizedRowSettings settings, out byte[] blob, byte codesCodec = StreamCodec.Zstandard)
    {
        var encoder = new QuantizedChunkEncoder(settings, rows[0].Length) { CodesCodec = codesCodec };
        foreach (var row in rows) encoder.Add(row, 0);
        var chunk = new QuantizedChunk();
        blob = encoder.Finish();
        chunk.Load(blob);
        return (chunk, encoder);
    }

    /// <summary>
    /// compact-4 chunks are split into three streams (parts, ids, codes; each Brotli, or the codes Zstandard behind a
    /// codec byte) and put back together on loading into exactly the rows a single-stream chunk holds (compact-3 chunks
    /// keep the single stream); a cut or altered split chunk, and an unknown codec, are refused.
    /// </summary>
    [Fact]
    public void Split_chunks_join_back_into_the_same_rows_and_damage_is_refused()
    {
        var random = new Random(5);
        const int vocab = 2000;
        var rows = Enumerable.Range(0, 12).Select(j =>
        {
            // Flat rows alternate with peaked ones (never a majority of wide rows: no fine tier), one row not finite.
            var row = GgufOptimize.Tests.Metrics.LogitGenerator.Gaussian(random, vocab, scale: j % 2 == 0 ? 0.8 : 2.0, spikes: 0);
            if (j % 2 == 1) row[random.Next(vocab)] = 17;
            if (j == 5) row[7] = float.NaN;
            return row;
        }).ToArray();
        var (split, encoder) = EncodeRows(rows, QuantizedRowSettings.Default, out var blob);
        Assert.Equal(0, encoder.FineRows);
        Assert.Equal(QuantizedChunk.SplitCoded, blob[4]);
        var (brotli, _) = EncodeRows(rows, QuantizedRowSettings.Default, out var brotliBlob, StreamCodec.Brotli);
        Assert.Equal(QuantizedChunk.SplitBrotli, brotliBlob[4]);
        for (int j = 0; j < rows.Length; j++) Assert.Equal(brotli.Row(j).ToArray(), split.Row(j).ToArray());
        var (old, _) = EncodeRows(rows, QuantizedRowSettings.Compact3, out var oldBlob);
        Assert.Equal(QuantizedChunk.Brotli, oldBlob[4]);
        Assert.Equal(QuantizedChunk.NotFinite, QuantizedChunk.ReadHeader(split.Row(5)).Count);
        Assert.Null(split.Validate(vocab, rows.Length - 1, QuantizedRowSettings.Default));
        // Every row joined back is compact-3's row plus the tier byte (the non-finite row: the same header).
        for (int j = 0; j < rows.Length; j++)
            Assert.Equal(old.Row(j).ToArray(), j == 5 ? split.Row(j).ToArray() : split.Row(j)[..^1].ToArray());
        foreach (var whole in new[] { blob, brotliBlob })
        {
            var cut = whole[..^3];
            Assert.Throws<InvalidDataException>(() => new QuantizedChunk().Load(cut));
            var altered = (byte[])whole.Clone();
            altered[5] ^= 0x7f;
            Assert.Throws<InvalidDataException>(() => new QuantizedChunk().Load(altered));
        }
        // The code stream is the last: its codec byte sits right after the other two streams.
        int o = 5;
        var lengths = new uint[3];
        for (int s = 0; s < 3; s++) lengths[s] = Varint.Read(blob, ref o);
        int codec = o + (int)lengths[0] + (int)lengths[1];
        Assert.Equal(StreamCodec.Zstandard, blob[codec]);
        var unknown = (byte[])blob.Clone();
        unknown[codec] = 9;
        Assert.Contains("codec 9", Assert.Throws<InvalidDataException>(() => new QuantizedChunk().Load(unknown)).Message);
        var damaged = (byte[])blob.Clone();
        damaged[codec + 1 + (int)lengths[2] / 2] ^= 0x55;
        Assert.Throws<InvalidDataException>(() => new QuantizedChunk().Load(damaged));
    }

    /// <summary>Σ |P̂ − P| over the kept tokens of a decoded sparse or every-code row, plus its tail mass.</summary>
    private static double DecodedError(float[] logits, ReadOnlySpan<byte> row, QuantizedRowSettings settings)
    {
        int n = logits.Length;
        double max = logits.Max(), z = logits.Sum(x => Math.Exp(x - max)), logNorm = max + Math.Log(z);
        var ids = new int[n];
        var logP = new double[n];
        var h = QuantizedChunk.ReadHeader(row);
        int count = n;
        if (h.Count == QuantizedChunk.AllCodes) { QuantizedChunk.DecodeDense(row, n, settings, logP); for (int i = 0; i < n; i++) ids[i] = i; }
        else count = QuantizedChunk.DecodeSparse(row, settings, ids, logP);
        // The tail's mass counts whole: it is the probability a sparse row no longer places on its tokens.
        double error = h.Count == QuantizedChunk.AllCodes ? 0 : h.TailMass;
        for (int k = 0; k < count; k++) error += Math.Abs(Math.Exp(logP[k]) - Math.Exp(logits[ids[k]] - logNorm));
        return error;
    }

    [Slow]
    [Theory]
    [InlineData(1e-4, 1e-6, 0.05, 0, 0)]
    [InlineData(3e-4, 4e-6, 0.2, 4e-6, 1.0)]
    [InlineData(1e-4, 1e-6, 0.05, 2e-6, 2.0)]
    public void Stated_bound_holds_on_every_row_of_a_realistic_model_against_its_Q4_0(double eps, double rho, double step, double knee2, double step2)
    {
        using var rows = RealisticRows.Make();
        var settings = new QuantizedRowSettings(eps, rho, step, knee2, step2);
        var (violations, worst, errors) = Check(rows, settings, claimed: null);
        if (settings.HasSecondKnee)
        {
            // compact-3 subtracts each row's D = Σ P̂·log(P̂/P): what is left is the tail term and Σ (P − P̂)(r − c), so
            // even without κ the bound holds (with the correction's sign wrong it does not).
            var probe = new QuantizedChunkEncoder(settings, rows.Vocab);
            Encode(rows, probe);
            var (withoutKappa, _, _) = Check(rows, settings, claimed: (eps, probe.MaxTotalVariation, 0));
            Assert.Equal(0, withoutKappa);
        }
        Assert.Equal(0, violations);
        Assert.True(errors > 0, "the encoding changed no KLD at all: the check would not see a broken bound");
        Assert.InRange(worst, 0, 1);
    }

    /// <summary>compact-4's default on llama.cpp rows of a flat model (most rows fine) and of a realistic one (coarse): the bound with the larger ε of the two tiers holds on every row.</summary>
    [Slow]
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Stated_bound_of_the_default_tiers_holds_on_flat_and_realistic_models(bool flat)
    {
        using var rows = RealisticRows.Make(flat);
        var probe = new QuantizedChunkEncoder(QuantizedRowSettings.Default, rows.Vocab);
        Encode(rows, probe);
        if (flat) Assert.True(probe.FineRows > rows.Count / 2, $"only {probe.FineRows} of {rows.Count} flat rows were refined");
        else Assert.True(probe.FineRows < rows.Count / 10, $"{probe.FineRows} of {rows.Count} realistic rows were refined");
        var (violations, worst, errors) = Check(rows, QuantizedRowSettings.Default, claimed: null);
        Assert.Equal(0, violations);
        Assert.True(errors > 0, "the encoding changed no KLD at all: the check would not see a broken bound");
        Assert.InRange(worst, 0, 1);
    }

    [Slow]
    [Fact]
    public void The_check_fails_when_a_too_coarse_encoder_claims_the_default_bound()
    {
        using var rows = RealisticRows.Make();
        var strict = new QuantizedChunkEncoder(QuantizedRowSettings.Default, rows.Vocab);
        Encode(rows, strict);
        var (violations, _, _) = Check(rows, new QuantizedRowSettings(0.05, 1e-3, 1.0), claimed: (QuantizedRowSettings.Default.TailMass, strict.MaxTotalVariation, strict.MaxDecodedDivergence));
        Assert.True(violations > 0, "a coarse encoding judged against the default's bound must break it somewhere");
    }

    private static QuantizedChunk Encode(RealisticRows rows, QuantizedChunkEncoder encoder)
    {
        for (int j = 0; j < rows.Count; j++) encoder.Add(rows.Baseline(j), rows.Next(j));
        var chunk = new QuantizedChunk();
        chunk.Load(encoder.Finish());
        return chunk;
    }

    /// <summary>Exact KLD (float32 rows) against KLD from the decoded rows, each error against the bound: (violations, worst error / bound, rows with any error).</summary>
    private static (int Violations, double Worst, int Errors) Check(RealisticRows rows, QuantizedRowSettings settings, (double Eps, double Tau, double Kappa)? claimed)
    {
        var encoder = new QuantizedChunkEncoder(settings, rows.Vocab);
        var chunk = Encode(rows, encoder);
        var (eps, tau, kappa) = claimed ?? (settings.MaxTailMass, encoder.MaxTotalVariation, encoder.MaxDecodedDivergence);
        int n = rows.Vocab, violations = 0, errors = 0;
        double worst = 0;
        var ids = new int[n];
        var logP = new double[n];
        var scratch = new float[n];
        for (int j = 0; j < rows.Count - 1; j++)
        {
            var exact = LogitComparer.Compare(rows.Baseline(j), rows.Target(j), rows.Next(j));
            var row = chunk.Row(j);
            var h = QuantizedChunk.ReadHeader(row);
            bool dense = h.Count is QuantizedChunk.Dense or QuantizedChunk.AllCodes;
            int count = dense ? n : QuantizedChunk.DecodeSparse(row, settings, ids, logP);
            if (dense) QuantizedChunk.DecodeDense(row, n, settings, logP);
            var decoded = SparseLogProbComparer.Compare(ids.AsSpan(0, dense ? 0 : count), dense, logP.AsSpan(0, count), h.TailMass, h.NextLogit - h.LogNorm, h.Top,
                rows.Target(j), rows.Next(j), scratch);
            decoded = decoded with { Kld = decoded.Kld + QuantizedChunk.Correction(row, settings) };
            Assert.Equal(exact.TopBase, decoded.TopBase);
            // The stored normalizer is exact but for the single-precision sum below the selector's cut (≤ BelowSumError of ≤ ε).
            if (rows.Next(j) >= 0) Assert.Equal(exact.LogProbBase, decoded.LogProbBase, 1e-9 + QuantizedRowSelector.BelowSumError * settings.MaxTailMass);
            double error = Math.Abs(decoded.Kld - exact.Kld);
            double bound = QuantizedErrorBound.Of(eps, tau, kappa, QuantizedErrorBound.LogRatioSpread(rows.Baseline(j), rows.Target(j)));
            if (error > 1e-12) errors++;
            if (error > bound + 1e-12) violations++;
            if (bound > 0) worst = Math.Max(worst, error / bound);
        }
        return (violations, worst, errors);
    }

    /// <summary>One chunk of a small realistic (or flat) synthetic model and its Q4_0, run through llama.cpp.</summary>
    private sealed class RealisticRows : IDisposable
    {
        private readonly TempDir _dir = new();
        private float[] _p = [], _q = [];
        private int[] _tokens = [];
        public int Vocab { get; private set; }
        public int Count => _tokens.Length;

        public static RealisticRows Make(bool flat = false)
        {
            var r = new RealisticRows();
            string model = r._dir.File("m.gguf");
            SyntheticModel.Write(model, (flat ? SyntheticModelOptions.Flat(4096) : SyntheticModelOptions.Realistic(4096)) with { ContextLength = 256 });
            string target = ModelQuantizer.Run(new QuantizeOptions
            {
                ModelPath = model, OutputDirectory = r._dir.Path, Types = [QuantizationTypes.Parse("Q4_0")], Threads = 1,
            }, NullProgress.Instance).Single().OutputPath;
            using var baseModel = LlamaModel.Load(model);
            using var targetModel = LlamaModel.Load(target);
            var plan = ChunkPlan.ForModel(baseModel.Tokenize(SyntheticVocabulary.Build(4096).RandomWords(400, 3)), 256, baseModel.AddBos, baseModel.Bos, baseModel.AddEos, baseModel.Eos);
            r._tokens = plan.Chunk(0);
            r.Vocab = baseModel.VocabSize;
            r._p = new float[r._tokens.Length * r.Vocab];
            r._q = new float[r._p.Length];
            using (var e = new LlamaEvaluator(baseModel, new EvaluatorOptions { ContextSize = 256 })) e.EvaluateChunk(r._tokens, r._p);
            using (var e = new LlamaEvaluator(targetModel, new EvaluatorOptions { ContextSize = 256 })) e.EvaluateChunk(r._tokens, r._q);
            return r;
        }

        public ReadOnlySpan<float> Baseline(int j) => _p.AsSpan(j * Vocab, Vocab);
        public ReadOnlySpan<float> Target(int j) => _q.AsSpan(j * Vocab, Vocab);
        public int Next(int j) => j + 1 < _tokens.Length ? _tokens[j + 1] : -1;
        public void Dispose() => _dir.Dispose();
    }
}
