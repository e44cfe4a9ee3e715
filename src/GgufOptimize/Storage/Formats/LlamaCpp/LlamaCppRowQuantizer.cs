using System.Runtime.InteropServices;
using GgufOptimize.Metrics;

namespace GgufOptimize.Storage.Formats.LlamaCpp;

/// <summary>
/// One logits row to llama-perplexity's stored form, with its formulas: min is raised to max − 16, log P of the min is
/// min − max − log Σ e^(x − max), scale = (max − min)/65535, v_i = round-to-nearest-even((x_i − min)/scale) for x_i &gt; min
/// and 0 otherwise. (The sum of exponentials is taken in double here; llama.cpp adds float exps in double, so the
/// stored min log-prob may differ from its file in the last float bit.)
/// </summary>
internal static class LlamaCppRowQuantizer
{
    /// <param name="output">RowUInt16s values: scale and min as two floats, then the n_vocab values, then padding.</param>
    public static void Quantize(ReadOnlySpan<float> logits, Span<ushort> output)
    {
        int n = logits.Length;
        float max = logits[0], min = logits[0];
        for (int i = 1; i < n; i++)
        {
            max = Math.Max(max, logits[i]);
            min = Math.Min(min, logits[i]);
        }
        min = Math.Max(min, max - 16);
        float logSumExp = (float)Math.Log(RowSoftmax.SumExp(logits, max));
        float minLogProb = min - max - logSumExp;
        float scale = (max - min) / 65535f;
        var head = MemoryMarshal.Cast<ushort, float>(output[..4]);
        head[0] = scale;
        head[1] = minLogProb;
        var values = output.Slice(4, n);
        if (scale != 0)
        {
            float inverse = 1 / scale;
            for (int i = 0; i < n; i++)
                values[i] = logits[i] > min ? (ushort)Math.Min(65535f, MathF.Round(inverse * (logits[i] - min), MidpointRounding.ToEven)) : (ushort)0;
        }
        else values.Clear();
        output[(4 + n)..].Clear();
    }
}
