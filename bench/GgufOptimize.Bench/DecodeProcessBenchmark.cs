using GgufOptimize.Chunking;
using GgufOptimize.Engine;

namespace GgufOptimize.Bench;

/// <summary>
/// A whole process that only loads a model, tokenizes a text and decodes its chunks with every logit requested:
/// the process-level "bare decode" of our engine that the side-by-side benchmark sets against our commands, just as
/// a plain llama-perplexity pass is llama.cpp's own.
/// </summary>
public sealed class DecodeProcessBenchmark : IBenchmark
{
    public string Name => "decode";
    public string Description => "bare decode in its own process (anchor for `native`) --model M --text T [--ctx 512] [--chunks all] [--threads 0] [--first 0: request logits only from this position of each chunk on, as llama-perplexity does for its second half]";

    public int Run(string[] args)
    {
        var a = new BenchArgs(args);
        string model = a.Get("model") ?? throw new ArgumentException("--model is required");
        string text = a.Get("text") ?? throw new ArgumentException("--text is required");
        int ctx = a.Int("ctx", 512), threads = a.Int("threads", 0), chunks = a.Int("chunks", int.MaxValue), first = a.Int("first", 0);
        NativeRuntime.Initialize();
        using var llama = LlamaModel.Load(model);
        var plan = ChunkPlan.ForModel(llama.Tokenize(File.ReadAllText(text)), ctx, llama.AddBos, llama.Bos, llama.AddEos, llama.Eos);
        using var evaluator = new LlamaEvaluator(llama, new EvaluatorOptions { ContextSize = ctx, Threads = threads });
        int n = Math.Min(chunks, plan.ChunkCount);
        for (int c = 0; c < n; c++) evaluator.DecodeOnly(plan.Chunk(c), allLogits: true, firstWithLogits: first);
        Console.WriteLine($"decoded {n} chunks of {ctx} tokens");
        return 0;
    }
}
