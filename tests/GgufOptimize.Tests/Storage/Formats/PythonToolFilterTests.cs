using System.Runtime.InteropServices;
using System.Text.Json;
using GgufOptimize.Common;
using GgufOptimize.Engine;
using GgufOptimize.Kld;
using GgufOptimize.Storage;
using GgufOptimize.Storage.Hdf5.Filters;
using GgufOptimize.Tests.Storage.Hdf5;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Storage.Formats;

/// <summary>
/// Every compression generate_logits.py offers (gzip, lzf, none), and the shuffle and fletcher32 filters h5py can add,
/// written by h5py and read by <c>kld</c>; a filter we cannot decode is one clear error before any output exists.
/// </summary>
public class PythonToolFilterTests
{
    private const int Context = 48;

    /// <summary>generate_logits.py's layout with the filters named in argv[6] (JSON: h5py create_dataset keywords).</summary>
    private const string BuildScript = """
        import sys, json, numpy as np, h5py
        out, raw, lengths = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
        n_ctx, n_vocab, options = int(sys.argv[4]), int(sys.argv[5]), json.loads(sys.argv[6])
        total = len(lengths)
        rows = np.fromfile(raw, dtype='<f4').reshape(total, n_ctx, n_vocab)
        unknown = options.pop("unknown", None)
        with h5py.File(out, 'w') as f:
            f.attrs['format'] = 'generate_logits_v0.6.0'
            f.attrs['n_ctx'] = n_ctx
            f.attrs['n_vocab'] = n_vocab
            f.attrs['total_chunks'] = total
            if unknown:
                # A filter nobody here knows: h5py records it, and the chunks are stored as raw bytes said to be filtered.
                logits = f.create_dataset('logits', shape=(total, n_ctx, n_vocab), dtype='float32', chunks=(1, n_ctx, n_vocab), compression=unknown, allow_unknown_filter=True)
                for c in range(total):
                    logits.id.write_direct_chunk((c, 0, 0), rows[c].tobytes(), filter_mask=0)
            else:
                logits = f.create_dataset('logits', shape=(total, n_ctx, n_vocab), maxshape=(None, n_ctx, n_vocab), dtype='float32', chunks=(1, n_ctx, n_vocab), **options)
                for c in range(total):
                    logits[c, :lengths[c], :] = rows[c, :lengths[c], :]
            f.create_dataset('freed_chunks', shape=(0,), dtype=np.int64, maxshape=(None,), chunks=True)
            f.create_dataset('processed_chunks', data=np.ones(total, dtype=bool), maxshape=(None,), chunks=True)
            f.create_dataset('chunk_index', data=np.arange(total, dtype=np.int64), chunks=True)
            print(json.dumps({"filters": list(logits.id.get_create_plist().get_filter(i)[0] for i in range(logits.id.get_create_plist().get_nfilters()))}))
        """;

    private sealed record Fixture(TempDir Tmp, string Data, string Raw, string Lengths, int Vocab, long ScoredTokens) : IDisposable
    {
        public void Dispose() => Tmp.Dispose();
    }

    /// <summary>The real model's logits for generate_logits.py's chunks of a short text, as raw float32.</summary>
    private static Fixture MakeFixture()
    {
        H5py.RequireInterpreter();
        var tmp = new TempDir();
        string data = FormatFixtures.Text(tmp, 1500);
        using var model = LlamaModel.Load(SharedAssets.AidreamsModel);
        var tokens = new List<int> { model.Bos!.Value };
        tokens.AddRange(model.Tokenize(File.ReadAllText(data)));
        int total = (tokens.Count + Context - 2) / (Context - 1), vocab = model.VocabSize;
        var chunks = Enumerable.Range(0, total).Select(c =>
        {
            int start = c * (Context - 2), end = Math.Min(start + Context - 2, tokens.Count);
            return (int[])[model.Bos.Value, .. tokens.GetRange(start, Math.Max(0, end - start))];
        }).ToList();
        var raw = new float[(long)total * Context * vocab];
        using (var evaluator = new LlamaEvaluator(model, new EvaluatorOptions { ContextSize = Context }))
            for (int c = 0; c < total; c++)
                evaluator.EvaluateChunk(chunks[c], raw.AsSpan(c * Context * vocab, chunks[c].Length * vocab));
        File.WriteAllBytes(tmp.File("raw.f32"), MemoryMarshal.AsBytes(raw.AsSpan()).ToArray());
        return new Fixture(tmp, data, tmp.File("raw.f32"), "[" + string.Join(",", chunks.Select(c => c.Length)) + "]", vocab, chunks.Sum(c => (long)c.Length - 1));
    }

    private static int[] Build(Fixture f, string name, string options)
    {
        var result = H5py.Json(BuildScript, f.Tmp.File(name), f.Raw, f.Lengths, Context.ToString(), f.Vocab.ToString(), options);
        return result.GetProperty("filters").EnumerateArray().Select(e => e.GetInt32()).ToArray();
    }

    [Slow]
    [SkippableFact]
    public void Every_filter_the_python_tool_or_h5py_offers_is_read_exactly()
    {
        using var f = MakeFixture();
        var cases = new (string Name, string Options, int[] Filters)[]
        {
            ("lzf.h5", """{"compression": "lzf"}""", [LzfFilter.Id]),
            ("gzip.h5", """{"compression": "gzip", "compression_opts": 4}""", [1]),
            ("none.h5", "{}", []),
            ("lzf-shuffle-fletcher.h5", """{"compression": "lzf", "shuffle": true, "fletcher32": true}""", [2, LzfFilter.Id, 3]),
            ("gzip-shuffle.h5", """{"compression": "gzip", "shuffle": true}""", [2, 1]),
        };
        foreach (var (name, options, filters) in cases)
        {
            Assert.Equal(filters, Build(f, name, options));
            // The same model as target: the stored rows must come back bit for bit, so every KLD is exactly 0.
            var r = KldJob.Run(new KldJobOptions
            {
                BaselineLogits = f.Tmp.File(name), TargetModel = SharedAssets.AidreamsModel, Dataset = f.Data, OutputFile = f.Tmp.File("cmp-" + name),
            }, NullProgress.Instance, default);
            Assert.Empty(r.MissingBaselineChunks);
            Assert.Equal(f.ScoredTokens, r.Overall.Tokens);
            Assert.All(r.Chunks, c => Assert.All(c.Kld, k => Assert.Equal(0.0, k)));
        }
    }

    [SkippableFact]
    public void An_unknown_filter_is_one_line_exit_2_and_leaves_nothing()
    {
        using var f = MakeFixture();
        Assert.Equal(new[] { 32123 }, Build(f, "unknown.h5", """{"unknown": 32123}"""));
        string output = f.Tmp.File("cmp.h5");
        var run = CliProcess.Run("kld", "--baseline-logits", f.Tmp.File("unknown.h5"), "--target-model", SharedAssets.AidreamsModel,
            "--dataset", f.Data, "--output-file", output);
        Assert.Equal(2, run.ExitCode);
        var lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Single(lines, l => l.Contains("unknown.h5") && l.Contains("cannot be decoded"));
        Assert.DoesNotContain(lines, l => l.StartsWith("at ") || l.Contains("Exception"));
        Assert.False(File.Exists(output));
        Assert.False(Directory.Exists(KldChunkStore.PartsDirectory(output)));
    }

    [SkippableFact]
    public void Lzf_decodes_the_chunks_h5py_stores()
    {
        H5py.RequireInterpreter();
        using var tmp = new TempDir();
        // Compressible (runs and repeats) and incompressible (random) data; read_direct_chunk gives the stored bytes.
        var stored = H5py.Json("""
            import sys, json, base64, numpy as np, h5py
            rng = np.random.default_rng(3)
            a = np.concatenate([np.repeat(np.arange(50, dtype='<f4'), 40), rng.normal(size=3000).astype('<f4'), np.zeros(5000, dtype='<f4')])
            with h5py.File(sys.argv[1], 'w') as f:
                d = f.create_dataset('x', data=a, chunks=(a.size,), compression='lzf')
                mask, raw = d.id.read_direct_chunk((0,))
                # Random floats do not shrink: h5py stores them unfiltered and flags the chunk (mask bit 0 set).
                skipped = f.create_dataset('y', data=rng.normal(size=2000).astype('<f4'), chunks=(2000,), compression='lzf').id.read_direct_chunk((0,))[0]
            print(json.dumps({"mask": mask, "skipped": skipped, "raw": base64.b64encode(raw).decode(), "plain": base64.b64encode(a.tobytes()).decode()}))
            """, tmp.File("x.h5"));
        Assert.Equal(0, stored.GetProperty("mask").GetInt32());
        Assert.Equal(1, stored.GetProperty("skipped").GetInt32());
        var raw = Convert.FromBase64String(stored.GetProperty("raw").GetString()!);
        var plain = Convert.FromBase64String(stored.GetProperty("plain").GetString()!);
        Assert.True(raw.Length < plain.Length);
        Assert.Equal(plain.Length, Lzf.DecompressedLength(raw));
        var output = new byte[plain.Length];
        Assert.Equal(plain.Length, Lzf.Decompress(raw, output));
        Assert.Equal(plain, output);
    }

    [Fact]
    public void Lzf_literals_overlapping_matches_and_bad_streams()
    {
        // "ab", then a 3-byte match one byte back (a run of b), then a 9-byte match (7 + extra 0) two bytes back.
        byte[] stream = [0x01, (byte)'a', (byte)'b', 0x20, 0x00, 0xE0, 0x00, 0x01];
        var output = new byte[Lzf.DecompressedLength(stream)];
        Assert.Equal(output.Length, Lzf.Decompress(stream, output));
        Assert.Equal("abbbbbbbbbbbbb", System.Text.Encoding.ASCII.GetString(output));
        Assert.Throws<InvalidDataException>(() => Lzf.DecompressedLength([0x05, 1, 2]));          // literal cut short
        Assert.Throws<InvalidDataException>(() => Lzf.DecompressedLength([0x00, 1, 0x20, 0x05])); // reference before the start
        Assert.Throws<InvalidDataException>(() => Lzf.Decompress(stream, new byte[5]));           // output too small
    }
}
