using GgufOptimize.Common;
using GgufOptimize.Chunking;
using GgufOptimize.Engine;
using GgufOptimize.Gguf;
using GgufOptimize.Imatrix;
using GgufOptimize.Synthetic;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Imatrix;

public class ImatrixCaptureTests
{
    private const string Text = "I dream of vectors that fold into gradients, of weights that hum in the dark. 0123456789 äöü — ✓";

    [SkippableFact]
    public void Attn_q_sums_equal_squared_normalized_embeddings_computed_independently_on_the_real_model()
    {
        using var dir = new TempDir();
        string dataset = dir.File("calib.txt");
        File.WriteAllText(dataset, string.Join("\n\n", File.ReadAllText(SharedAssets.AidreamsText).Split("\n\n").Take(12)));
        var matrix = CheckFirstLayerSums(SharedAssets.AidreamsModel, dataset, dir, processOutput: false);
        Assert.Equal(172, matrix.Find("blk.3.ffn_down.weight")!.Width);
        Assert.Null(matrix.Find("output.weight"));
        Assert.Equal(4 * 7, matrix.Count);
    }

    [Fact]
    public void Attn_q_sums_equal_squared_normalized_embeddings_computed_independently_on_a_synthetic_model()
    {
        using var dir = new TempDir();
        string model = dir.File("synthetic.gguf");
        SyntheticModel.Write(model, new SyntheticModelOptions { EmbeddingLength = 128, LayerCount = 2, VocabSize = 600, WeightType = GgmlType.F16, ContextLength = 256, Seed = 7 });
        string dataset = dir.File("calib.txt");
        File.WriteAllText(dataset, string.Concat(Enumerable.Repeat(Text + "\n", 30)));
        var matrix = CheckFirstLayerSums(model, dataset, dir, processOutput: true);
        var output = matrix.Find("output.weight")!;
        Assert.Equal(128, output.Width);
        Assert.Equal(matrix.Find("blk.0.attn_q.weight")!.Counts, output.Counts);
        Assert.Equal(2 * 7 + 1, matrix.Count);
    }

    /// <summary>Runs 5 chunks of 64 tokens and checks blk.0.attn_q.weight against a computation in double precision.</summary>
    private static ImportanceMatrix CheckFirstLayerSums(string modelPath, string dataset, TempDir dir, bool processOutput)
    {
        var result = ImatrixBuilder.Run(new ImatrixOptions
        {
            ModelPath = modelPath, DatasetPath = dataset, OutputPath = dir.File("imatrix.gguf"),
            ContextSize = 64, Chunks = 5, Threads = 1, ProcessOutput = processOutput, Overwrite = true,
        }, NullProgress.Instance);
        Assert.Equal(5, result.ChunksEvaluated);
        var matrix = ImatrixFile.Load(result.OutputPath);

        // Independent: RMSNorm(embedding(token)) ⊙ attn_norm, squared, summed over every token evaluated.
        var gguf = GgufFile.Read(modelPath);
        var embd = gguf.ReadTensorFloats(gguf.Tensor("token_embd.weight"));
        var norm = gguf.ReadTensorFloats(gguf.Tensor("blk.0.attn_norm.weight"));
        double eps = (float)gguf.Metadata.GetNumber("llama.attention.layer_norm_rms_epsilon")!.Value;
        int dim = norm.Length;
        using var model = LlamaModel.Load(modelPath);
        var tokens = model.Tokenize(File.ReadAllText(dataset));
        var expected = new double[dim];
        long rows = 0;
        var plan = ChunkPlan.ForModel(tokens, 64, model.AddBos, model.Bos, model.AddEos, model.Eos);
        for (int c = 0; c < 5; c++)
        {
            foreach (int token in plan.Chunk(c))
            {
                double ms = 0;
                for (int j = 0; j < dim; j++) ms += (double)embd[token * dim + j] * embd[token * dim + j];
                double scale = 1.0 / Math.Sqrt(ms / dim + eps);
                for (int j = 0; j < dim; j++)
                {
                    double y = embd[token * dim + j] * scale * norm[j];
                    expected[j] += y * y;
                }
                rows++;
            }
        }

        var q = matrix.Find("blk.0.attn_q.weight")!;
        Assert.Equal([rows], q.Counts);
        Assert.Equal(dim, q.Width);
        for (int j = 0; j < dim; j++)
            Assert.True(Math.Abs(q.Sums[j] - expected[j]) <= 1e-4 * expected[j] + 1e-6, $"column {j}: {q.Sums[j]} vs {expected[j]}");
        // The other weights reading the same normalized input carry the same statistics.
        Assert.Equal(q.Sums, matrix.Find("blk.0.attn_k.weight")!.Sums);
        Assert.Equal(q.Sums, matrix.Find("blk.0.attn_v.weight")!.Sums);
        Assert.Equal(5, matrix.ChunkCount);
        Assert.Equal(64, matrix.ChunkSize);
        Assert.Equal([Path.GetRelativePath(dir.Path, dataset)], matrix.Datasets);
        return matrix;
    }
}
