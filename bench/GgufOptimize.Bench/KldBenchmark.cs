using System.Runtime.Intrinsics;
using GgufOptimize.Metrics;

namespace GgufOptimize.Bench;

/// <summary>
/// Per-token KLD kernel throughput on two in-memory float32 logits arrays (default 512 tokens × 32000 vocab,
/// 65.5 MB each, larger than L3), single thread, against a scalar double reference of the same algorithm and
/// a sequential read of the same bytes (the memory floor).
/// </summary>
public sealed class KldBenchmark : IBenchmark
{
    public string Name => "kld";
    public string Description => "KLD kernel vs scalar reference vs memory floor [--tokens 512] [--vocab 32000] [--reps 5] [--passes 8]";

    private const double NumpyGBps = 0.25; // llama-gguf-optimize's numpy formula, float32, one core, measured on this machine

    public int Run(string[] args)
    {
        var options = new BenchArgs(args);
        int tokens = options.Int("tokens", 512), vocab = options.Int("vocab", 32000), reps = options.Int("reps", 5);
        int passes = options.Int("passes", 8); // passes over the data per timed repetition: CPU time ticks are 10 ms
        Console.WriteLine($"data: {tokens} tokens x {vocab} vocab, baseline ~ N(0,2) + 5 spikes U(5,15), target = baseline + N(0,0.15)");
        var random = new Random(1234);
        var baseline = new float[tokens * vocab];
        var target = new float[tokens * vocab];
        for (int t = 0; t < tokens; t++)
        {
            var row = baseline.AsSpan(t * vocab, vocab);
            for (int i = 0; i < vocab; i++) row[i] = (float)(2 * Normal(random));
            for (int s = 0; s < 5; s++) row[random.Next(vocab)] += (float)(5 + 10 * random.NextDouble());
            for (int i = 0; i < vocab; i++) target[t * vocab + i] = (float)(row[i] + 0.15 * Normal(random));
        }
        var next = Enumerable.Range(0, tokens).Select(_ => random.Next(vocab)).ToArray();
        var baselineHalf = baseline.Select(v => (Half)v).ToArray();
        double bytesPerToken = 2.0 * vocab * sizeof(float);

        double sink = 0;
        var floor = Stopwatches.Measure(() => { for (int k = 0; k < passes; k++) sink += SequentialSum(baseline) + SequentialSum(target); }, reps);
        var kernel = Stopwatches.Measure(() =>
        {
            for (int t = 0; t < tokens * passes; t++)
                sink += LogitComparer.Compare(baseline.AsSpan(t % tokens * vocab, vocab), target.AsSpan(t % tokens * vocab, vocab), next[t % tokens]).Kld;
        }, reps);
        var narrow = Stopwatches.Measure(() =>
        {
            for (int t = 0; t < tokens * passes; t++)
                sink += LogitComparer.Compare(baseline.AsSpan(t % tokens * vocab, vocab), target.AsSpan(t % tokens * vocab, vocab), next[t % tokens], wide: false).Kld;
        }, reps);
        var halfRows = LogitRows.Of(baselineHalf, vocab);
        var halfScratch = new float[vocab];
        var half = Stopwatches.Measure(() =>
        {
            for (int t = 0; t < tokens * passes; t++)
                sink += LogitComparer.Compare(halfRows.Row(t % tokens, halfScratch), target.AsSpan(t % tokens * vocab, vocab), next[t % tokens]).Kld;
        }, reps);
        int scalarTokens = Math.Min(tokens, 256);
        var scalar = Stopwatches.Measure(() =>
        {
            for (int t = 0; t < scalarTokens; t++)
                sink += ScalarKld.Compute(baseline.AsSpan(t * vocab, vocab), target.AsSpan(t * vocab, vocab));
        }, Math.Max(1, reps / 2));

        double worstRelative = 0, meanKld = 0;
        for (int t = 0; t < scalarTokens; t++)
        {
            double reference = ScalarKld.Compute(baseline.AsSpan(t * vocab, vocab), target.AsSpan(t * vocab, vocab));
            double ours = LogitComparer.Compare(baseline.AsSpan(t * vocab, vocab), target.AsSpan(t * vocab, vocab), next[t]).Kld;
            worstRelative = Math.Max(worstRelative, Math.Abs(ours - reference) / reference);
            meanKld += reference / scalarTokens;
        }

        void Line(string what, Stopwatches.Timing time, int count, double bytes) =>
            Console.WriteLine($"{what,-36} {count / time.BestSeconds,10:N0} tok/s {bytes * count / time.BestSeconds / 1e9,7:F2} GB/s" +
                              $"   | on-CPU: {count / time.BestCpuSeconds,10:N0} tok/s {bytes * count / time.BestCpuSeconds / 1e9,7:F2} GB/s");
        Console.WriteLine($"best of {reps}: wall clock | on-CPU time of the benchmark thread (fair on a loaded machine)");
        Line("memory floor (sequential sum)", floor, tokens * passes, bytesPerToken);
        Line("kernel float32/float32", kernel, tokens * passes, bytesPerToken);
        Line("  same, 256-bit vectors only", narrow, tokens * passes, bytesPerToken);
        Line("kernel float16 base/float32 target", half, tokens * passes, 6.0 * vocab);
        Line("scalar reference (double, Math.Exp)", scalar, scalarTokens, bytesPerToken);
        double kernelGBps = bytesPerToken * tokens * passes / kernel.BestSeconds / 1e9;
        Console.WriteLine($"kernel wall time per {tokens * passes} tokens: best {kernel.BestSeconds * 1e3:F0} ms, median {kernel.MedianSeconds * 1e3:F0} ms, CPU {kernel.BestCpuSeconds * 1e3:F0} ms");
        Console.WriteLine($"kernel / scalar reference: {scalar.BestSeconds / scalarTokens / (kernel.BestSeconds / (tokens * passes)):F1}x wall, " +
                          $"{scalar.BestCpuSeconds / scalarTokens / (kernel.BestCpuSeconds / (tokens * passes)):F1}x CPU");
        Console.WriteLine($"kernel / memory floor:     {floor.BestSeconds / kernel.BestSeconds:F2} wall, {floor.BestCpuSeconds / kernel.BestCpuSeconds:F2} CPU");
        Console.WriteLine($"kernel / numpy ({NumpyGBps} GB/s): {kernelGBps / NumpyGBps:F1}x wall, " +
                          $"{bytesPerToken * tokens * passes / kernel.BestCpuSeconds / 1e9 / NumpyGBps:F1}x CPU");
        Console.WriteLine($"accuracy: mean KLD {meanKld:E3}, max relative difference vs scalar reference {worstRelative:E2} over {scalarTokens} tokens");

        ExpMicrobenchmark(reps);
        GC.KeepAlive(sink);
        return 0;
    }

    /// <summary>Our exp vs the runtime's Vector256.Exp vs Math.Exp: speed and max relative error on [−30, 0].</summary>
    private static void ExpMicrobenchmark(int reps)
    {
        const int n = 1 << 16; // fits L2: measures the arithmetic, not memory
        var random = new Random(5);
        var x = Enumerable.Range(0, n).Select(_ => -30 * random.NextDouble()).ToArray();
        var ours = new double[n];
        var runtime = new double[n];
        var exact = new double[n];
        const int passes = 100; // ~0.1-0.5 s per timing: on-CPU time is only as fine as the scheduler tick
        var tOurs = Stopwatches.Measure(() => { for (int k = 0; k < passes; k++) for (int i = 0; i < n; i += 4) VectorExp.ExpNonPositive(Vector256.Create(x.AsSpan(i, 4))).CopyTo(ours.AsSpan(i)); }, reps);
        var tRuntime = Stopwatches.Measure(() => { for (int k = 0; k < passes; k++) for (int i = 0; i < n; i += 4) Vector256.Exp(Vector256.Create(x.AsSpan(i, 4))).CopyTo(runtime.AsSpan(i)); }, reps);
        var tScalar = Stopwatches.Measure(() => { for (int k = 0; k < passes; k++) for (int i = 0; i < n; i++) exact[i] = Math.Exp(x[i]); }, reps);
        double errOurs = 0, errRuntime = 0;
        for (int i = 0; i < n; i++)
        {
            errOurs = Math.Max(errOurs, Math.Abs(ours[i] - exact[i]) / exact[i]);
            errRuntime = Math.Max(errRuntime, Math.Abs(runtime[i] - exact[i]) / exact[i]);
        }
        Console.WriteLine($"exp on [-30,0], on-CPU ns/value: VectorExp (Vector256) {tOurs.BestCpuSeconds / n / passes * 1e9:F2} (max rel err vs Math.Exp {errOurs:E2}), " +
                          $"runtime Vector256.Exp {tRuntime.BestCpuSeconds / n / passes * 1e9:F2} ({errRuntime:E2}), Math.Exp {tScalar.BestCpuSeconds / n / passes * 1e9:F2}");
    }

    private static float SequentialSum(float[] data)
    {
        var a0 = Vector256<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0;
        int i = 0;
        for (; i <= data.Length - 32; i += 32)
        {
            a0 += Vector256.Create(data.AsSpan(i, 8));
            a1 += Vector256.Create(data.AsSpan(i + 8, 8));
            a2 += Vector256.Create(data.AsSpan(i + 16, 8));
            a3 += Vector256.Create(data.AsSpan(i + 24, 8));
        }
        float sum = Vector256.Sum(a0 + a1 + a2 + a3);
        for (; i < data.Length; i++) sum += data[i];
        return sum;
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
