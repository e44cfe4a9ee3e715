using GgufOptimize.Metrics;

namespace GgufOptimize.Bench;

/// <summary>
/// Block-bootstrap cost at the intended scale (default 100 chunks × 512 tokens, 2000 resamples), single and paired,
/// against re-sorting each resample, the straightforward way.
/// </summary>
public sealed class BootstrapBenchmark : IBenchmark
{
    public string Name => "bootstrap";
    public string Description => "chunk block bootstrap of the score [--chunks 100] [--tokens 512] [--resamples 2000] [--threads 1]";

    public int Run(string[] args)
    {
        var options = new BenchArgs(args);
        int chunks = options.Int("chunks", 100), tokens = options.Int("tokens", 512);
        int resamples = options.Int("resamples", 2000), threads = options.Int("threads", 1);
        var random = new Random(3);
        List<ChunkResult> Make(double scale) => Enumerable.Range(0, chunks).Select(c =>
        {
            double difficulty = Math.Exp(0.4 * (random.NextDouble() - 0.5));
            var kld = Enumerable.Range(0, tokens).Select(_ => scale * difficulty * -Math.Log(1 - random.NextDouble()) * 0.01).ToArray();
            return new ChunkResult(c, kld, new double[tokens], new bool[tokens], new double[tokens], new double[tokens], 0);
        }).ToList();
        var a = Make(1.0);
        var b = Make(0.97);
        var bootstrapOptions = new BootstrapOptions(resamples, 0.95, Threads: threads);

        ScoreInterval? interval = null;
        PairedScoreComparison? paired = null;
        var single = Stopwatches.Measure(() => interval = BlockBootstrap.ScoreInterval(a, bootstrapOptions), 3);
        var pair = Stopwatches.Measure(() => paired = BlockBootstrap.Paired(a, b, bootstrapOptions), 3);

        // The straightforward way: materialize each resample and sort it.
        int naiveResamples = Math.Min(resamples, 50);
        var naive = Stopwatches.Measure(() =>
        {
            var rng = new Random(1);
            for (int r = 0; r < naiveResamples; r++)
            {
                var drawn = Enumerable.Range(0, chunks).Select(_ => a[rng.Next(chunks)]).ToList();
                GC.KeepAlive(KldStatistics.Compute(drawn).Score);
            }
        }, 2);

        Console.WriteLine($"{chunks} chunks x {tokens} tokens, {resamples} resamples, {threads} thread(s)" +
            (threads > 1 ? " (on-CPU counts the calling thread only: read wall time)" : ""));
        Console.WriteLine($"score interval:  {single.BestCpuSeconds * 1e3,8:F1} ms on-CPU ({single.BestCpuSeconds / resamples * 1e6:F1} us/resample, wall {single.BestSeconds * 1e3:F1} ms)  {interval}");
        Console.WriteLine($"paired:          {pair.BestCpuSeconds * 1e3,8:F1} ms on-CPU ({pair.BestCpuSeconds / resamples * 1e6:F1} us/resample, wall {pair.BestSeconds * 1e3:F1} ms)  {paired}");
        Console.WriteLine($"re-sort per resample (KldStatistics on the drawn chunks): {naive.BestCpuSeconds / naiveResamples * 1e6:F1} us/resample on-CPU");
        return 0;
    }
}
