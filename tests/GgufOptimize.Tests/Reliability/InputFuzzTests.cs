using System.Buffers.Binary;
using GgufOptimize.Common;
using GgufOptimize.Gguf;
using GgufOptimize.Imatrix;
using GgufOptimize.Kld;
using GgufOptimize.Metrics;
using GgufOptimize.Reporting;
using GgufOptimize.Storage;
using GgufOptimize.Storage.Formats;
using GgufOptimize.Storage.Formats.LlamaCpp;
using GgufOptimize.Storage.Hdf5;
using GgufOptimize.Tests.Support;
using Xunit.Abstractions;

namespace GgufOptimize.Tests.Reliability;

/// <summary>
/// Seeded fuzzing of every stored input: valid files are mutated (bit flips and interesting values in headers and
/// metadata, attributes and dataset elements set to extreme values, truncation) and each mutant goes through the real
/// reader or command. Every case must end in a result with finite numbers or a bad-input error (exit 2 for the CLI):
/// any other exception, a NaN reported as a result, a native crash or a hang fails the test, naming the seed.
/// GGUF_OPTIMIZE_FUZZ_SEED changes the seed, GGUF_OPTIMIZE_FUZZ_SCALE multiplies the number of cases (default 1).
/// </summary>
[Collection(nameof(StoredInputsCollection))]
public class InputFuzzTests(StoredInputs f, ITestOutputHelper output)
{
    private static readonly ulong Seed = ulong.TryParse(Environment.GetEnvironmentVariable("GGUF_OPTIMIZE_FUZZ_SEED"), out var s) ? s : 20261128;
    private static readonly double Scale = double.TryParse(Environment.GetEnvironmentVariable("GGUF_OPTIMIZE_FUZZ_SCALE"), System.Globalization.CultureInfo.InvariantCulture, out var c) && c > 0 ? c : 1;
    private static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(60);

    private static int Count(int baseCount) => Math.Max(1, (int)(baseCount * Scale));

    private static readonly long[] Interesting = [0, 1, -1, 2, 7, 255, 256, 511, 512, 513, 65535, int.MaxValue, (long)int.MaxValue + 1, uint.MaxValue, 1L << 40, long.MaxValue, long.MinValue, int.MinValue];

    /// <summary>One mutation of a file's bytes: what it did (for the failure message) and the mutant's path.</summary>
    private sealed record Mutant(string Path, string What);

    private sealed class Fuzzer(ulong seed, StoredInputs f)
    {
        private Xoshiro256 _random = new(seed);

        public int Next(int max) => (int)(_random.NextUInt64() % (ulong)max);
        public long Value() => Interesting[Next(Interesting.Length)];

        /// <summary>Byte-level mutation, biased towards the first <paramref name="headerBytes"/> (where structure lives).</summary>
        public Mutant Bytes(string source, long headerBytes)
        {
            var bytes = File.ReadAllBytes(source);
            string what;
            int region = (int)Math.Min(bytes.Length, Math.Max(16, headerBytes));
            switch (Next(4))
            {
                case 0:
                {
                    int flips = 1 + Next(4);
                    var at = new List<int>();
                    for (int i = 0; i < flips; i++) { int p = Next(region); at.Add(p); bytes[p] ^= (byte)(1 << Next(8)); }
                    what = $"bit flips at {string.Join(",", at)}";
                    break;
                }
                case 1:
                {
                    int p = Next(Math.Max(1, region - 8));
                    long v = Value();
                    int width = Next(2) == 0 ? 4 : 8;
                    if (width == 4) BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(p), (int)v);
                    else BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(p), v);
                    what = $"{width}-byte value {v} at {p}";
                    break;
                }
                case 2:
                {
                    int length = Next(bytes.Length);
                    Array.Resize(ref bytes, length);
                    what = $"truncated to {length} bytes";
                    break;
                }
                default:
                {
                    int p = Next(bytes.Length), n = Math.Min(bytes.Length - p, 1 + Next(4096));
                    bytes.AsSpan(p, n).Fill(Next(2) == 0 ? (byte)0 : (byte)0xFF);
                    what = $"{n} bytes from {p} filled";
                    break;
                }
            }
            string path = f.NewFile(System.IO.Path.GetExtension(source));
            File.WriteAllBytes(path, bytes);
            return new Mutant(path, what);
        }

        /// <summary>Structure-aware mutation of one of our HDF5 files: an attribute or a dataset element set to an extreme.</summary>
        public Mutant Hdf5(string source)
        {
            var edit = H5Edit.Load(source);
            string what;
            var numeric = edit.Attributes.Where(a => a.Value is long or double).ToList();
            var small = edit.Datasets.Where(d => d.Bytes.Length > 0).ToList();
            if (Next(2) == 0 && numeric.Count > 0)
            {
                var a = numeric[Next(numeric.Count)];
                object v = a.Value is long ? Value() : new[] { double.NaN, double.PositiveInfinity, -1.0, 0.0, 1e300 }[Next(5)];
                edit.Set(a.Key, v);
                what = $"attribute {a.Key} = {v}";
            }
            else
            {
                var d = small[Next(small.Count)];
                int size = d.Type.Size();
                int count = d.Bytes.Length / size;
                int i = Next(count);
                var span = d.Bytes.AsSpan(i * size, size);
                object v;
                switch (d.Type)
                {
                    case H5ElementType.Float32: v = new[] { float.NaN, float.PositiveInfinity, 0f, -1e30f }[Next(4)]; BinaryPrimitives.WriteSingleLittleEndian(span, (float)v); break;
                    case H5ElementType.Float64: v = new[] { double.NaN, double.NegativeInfinity, 0, 1e300 }[Next(4)]; BinaryPrimitives.WriteDoubleLittleEndian(span, (double)v); break;
                    case H5ElementType.Float16: v = new[] { Half.NaN, Half.PositiveInfinity, Half.Zero }[Next(3)]; BinaryPrimitives.WriteHalfLittleEndian(span, (Half)v); break;
                    default:
                        long x = Value();
                        v = x;
                        for (int b = 0; b < size; b++) span[b] = (byte)(x >> (8 * b));
                        break;
                }
                what = $"{d.Name}[{i}] = {v}";
            }
            string path = f.NewFile(".h5");
            edit.Save(path);
            return new Mutant(path, what);
        }
    }

    /// <summary>Runs one case with a timeout; null when it ended well, else what went wrong.</summary>
    private static string? Outcome(Func<bool> run)
    {
        var task = Task.Run(() =>
        {
            try { return run() ? null : "a result with a non-finite statistic was reported as success"; }
            catch (GgufOptimizeException e) when (e.Kind == FailureKind.BadInput && !e.Message.Contains('\n')) { return null; }
            catch (Exception e) { return $"{e.GetType().Name}: {e.Message} at {string.Join(" < ", (e.StackTrace ?? "").Split('\n').Where(l => l.Contains("GgufOptimize.")).Take(3).Select(l => l.Trim()))}"; }
        });
        return task.Wait(CaseTimeout) ? task.Result : $"no end within {CaseTimeout.TotalSeconds} s (hang)";
    }

    private void Fuzz(string name, int cases, Func<Fuzzer, Mutant> mutate, Func<string, bool> run, ulong salt)
    {
        Skip.If(f.Skipped is not null, f.Skipped);
        var fuzzer = new Fuzzer(Seed ^ salt, f);
        var failures = new List<string>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < cases; i++)
        {
            var m = mutate(fuzzer);
            string? bad = Outcome(() => run(m.Path));
            if (bad is not null) failures.Add($"case {i} ({m.What}): {bad}");
            File.Delete(m.Path);
        }
        output.WriteLine($"{name}: {cases} mutants, seed {Seed}, {clock.Elapsed.TotalSeconds:F1} s, {failures.Count} failures");
        Assert.True(failures.Count == 0,
            $"{name}: {failures.Count} of {cases} mutants ended badly (seed {Seed}; rerun with GGUF_OPTIMIZE_FUZZ_SEED={Seed}):\n" + string.Join("\n", failures.Take(10)));
    }

    private KldJobResult KldAgainstStored(string baseline) => KldJob.Run(new KldJobOptions
    {
        BaselineLogits = baseline, TargetLogits = f.Full16, OutputFile = f.NewFile(".h5"), Threads = 1,
    }, NullProgress.Instance, default);

    private static bool Finite(KldJobResult r) => double.IsFinite(r.Overall.Score) && double.IsFinite(r.Overall.Average) && r.Chunks.All(c => c.Kld.All(double.IsFinite));

    [Slow]
    [SkippableFact]
    public void Baselines_of_our_formats_mutated_end_in_a_result_or_a_bad_input_error()
    {
        foreach (var (name, source, salt) in new[] { ("full float32", f.Full32, 1UL), ("full float16", f.Full16, 2UL), ("compact-1", f.Compact, 3UL), ("gzip", f.Gzip, 4UL), ("compact", f.Quantized, 5UL) })
        {
            Fuzz($"{name} (bytes)", Count(15), z => z.Bytes(source, 4096), p => Finite(KldAgainstStored(p)), salt);
            if (name != "gzip") Fuzz($"{name} (structure)", Count(15), z => z.Hdf5(source), p => Finite(KldAgainstStored(p)), salt << 8);
        }
    }

    [Slow]
    [SkippableFact]
    public void Comparisons_llama_cpp_kld_files_and_imatrices_mutated_end_in_a_result_or_a_bad_input_error()
    {
        Fuzz("comparison (bytes)", Count(40), z => z.Bytes(f.Comparison, 8192), p =>
        {
            var data = ComparisonReader.Read(p);
            return KldOutputFile.Read(p).Chunks.All(c => c.Kld.All(double.IsFinite));
        }, 11);
        Fuzz("comparison (structure)", Count(40), z => z.Hdf5(f.Comparison), p => KldOutputFile.Read(p).Chunks.All(c => c.Kld.All(double.IsFinite)), 12);

        Fuzz("llama.cpp .kld", Count(60), z => z.Bytes(f.LlamaCpp, 20 + 16 * StoredInputs.Context * 4), p =>
        {
            using IStoredBaseline kld = LlamaCppKldReader.Open(p, 1);
            var target = LogitRows.Of(new float[kld.ContextSize * kld.VocabSize], kld.VocabSize);
            for (int c = 0; c < kld.TotalChunks; c++)
            {
                if (!kld.HasChunk(c)) continue;
                var r = kld.Score(c, target, kld.ChunkTokens(c), 0);
                // A non-finite baseline row is refused by the comparison (KldInputs), not reported.
                if (r.FirstBaselineNonFiniteRow >= 0) continue;
                if (!r.Kld.All(double.IsFinite)) return false;
            }
            return true;
        }, 13);

        foreach (var (name, source, salt) in new[] { ("imatrix gguf", f.ImatrixGguf, 14UL), ("imatrix dat", f.ImatrixLegacy, 15UL) })
            Fuzz(name, Count(60), z => z.Bytes(source, 4096), p =>
            {
                var m = ImatrixFile.Load(p, StoredInputs.Context);
                return m.Entries.All(e => e.Sums.All(double.IsFinite));
            }, salt);
    }

    [Slow]
    [SkippableFact]
    public void Gguf_headers_mutated_are_read_and_validated_or_refused()
    {
        var header = GgufFile.Read(SharedAssets.AidreamsModel);
        Fuzz("gguf header", Count(150), z => z.Bytes(SharedAssets.AidreamsModel, header.DataOffset), p =>
        {
            var file = GgufModelValidation.ReadChecked(p);
            _ = ModelInspector.Inspect(p);
            return file.Tensors.All(t => t.Dimensions.All(d => d > 0));
        }, 21);
    }

    /// <summary>Mutants that reach llama.cpp run in a child process: a native crash is then a failed case, not a dead test host.</summary>
    [Slow]
    [SkippableFact]
    public void Mutants_that_reach_llama_cpp_end_with_exit_0_or_2_in_a_child_process()
    {
        Skip.If(f.Skipped is not null, f.Skipped);
        var header = GgufFile.Read(SharedAssets.AidreamsModel);
        var fuzzer = new Fuzzer(Seed ^ 31, f);
        var failures = new List<string>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int cases = Count(6);
        var runs = new List<(string What, string[] Args)>();
        for (int i = 0; i < cases; i++)
        {
            var model = fuzzer.Bytes(SharedAssets.AidreamsModel, header.DataOffset);
            runs.Add(($"model {model.What}", ["logits", "-m", model.Path, "-d", f.Data, "-o", f.NewFile(".h5"), "-c", "32", "-t", "1", "--to-chunk", "2", "-q"]));
            var kld = fuzzer.Bytes(f.LlamaCpp, 20 + 16 * StoredInputs.Context * 4);
            runs.Add(($".kld {kld.What}", ["kld", "--baseline-logits", kld.Path, "--target-model", SharedAssets.AidreamsModel, "-o", f.NewFile(".h5"), "-t", "1", "-q"]));
        }
        for (int i = 0; i < Math.Max(1, cases / 2); i++)
        {
            var imatrix = fuzzer.Bytes(f.ImatrixGguf, 4096);
            runs.Add(($"imatrix {imatrix.What}", ["quantize", "-m", SharedAssets.AidreamsModel, "--imatrix", imatrix.Path, "--types", "Q4_K_M", "-o", f.NewFile(""), "-t", "1", "-q"]));
        }
        foreach (var (what, args) in runs)
        {
            CliProcess.Result r;
            try { r = CliProcess.Run(TimeSpan.FromMinutes(2), args); }
            catch (TimeoutException) { failures.Add($"{what}: hang"); continue; }
            bool oneLine = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length <= 1 && !r.Stderr.Contains("   at ");
            if (r.ExitCode is not (0 or 2) || (r.ExitCode == 2 && !oneLine) || r.Stdout.Contains("NaN"))
                failures.Add($"{what}: exit {r.ExitCode}: {r.Stderr.Trim()}");
        }
        output.WriteLine($"child processes: {runs.Count} mutants, seed {Seed}, {clock.Elapsed.TotalSeconds:F1} s, {failures.Count} failures");
        Assert.True(failures.Count == 0, $"{failures.Count} of {runs.Count} mutants ended badly (seed {Seed}; rerun with GGUF_OPTIMIZE_FUZZ_SEED={Seed}):\n" + string.Join("\n", failures.Take(10)));
    }
}
