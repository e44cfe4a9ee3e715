using System.Runtime.InteropServices;
using GgufOptimize.Storage.Formats.LlamaCpp;

namespace GgufOptimize.Tests.Storage.Formats;

/// <summary>
/// The vectorized quantizer writes the same bytes as the formulas applied one value at a time (the reference below,
/// the form the quantizer had before it was vectorized), whatever the row length, ties and clamping.
/// </summary>
public class LlamaCppRowQuantizerTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(15, 2)]
    [InlineData(16, 3)]
    [InlineData(17, 4)]
    [InlineData(513, 5)]
    [InlineData(32000, 6)]
    [InlineData(32001, 7)]
    public void Vector_and_scalar_rows_are_the_same_bytes(int n, int seed)
    {
        var random = new Random(seed);
        foreach (float spread in new[] { 0f, 0.001f, 3f, 16f, 40f })
        {
            var row = new float[n];
            for (int i = 0; i < n; i++) row[i] = (float)(random.NextDouble() * spread - spread / 2);
            // Values exactly on the min, the max and half-way between levels exercise the clamp and the ties.
            row[0] = -spread / 2;
            if (n > 2) row[n / 2] = spread / 2;
            if (n > 5) row[n - 1] = row[n - 2];
            CheckSame(row);
        }
        var steps = new float[n];
        for (int i = 0; i < n; i++) steps[i] = (i % 7) * 0.5f;
        CheckSame(steps);
    }

    /// <summary>
    /// The one-pass max/min uses the hardware's per-lane max and min, which differ from the IEEE ones only for NaN and
    /// the sign of zero: rows where those decide, and rows with infinities, still give the reference's bytes.
    /// </summary>
    [Theory]
    [InlineData(40)]
    [InlineData(32000)]
    public void Signed_zeros_infinities_and_nan_give_the_same_bytes(int n)
    {
        var random = new Random(n);
        float[] Row(Func<int, float> value) => Enumerable.Range(0, n).Select(value).ToArray();
        var rows = new List<float[]>
        {
            Row(i => i == 3 ? -0f : i == n - 5 ? 0f : -1 - (float)random.NextDouble()),   // max −0 before +0
            Row(i => i == 3 ? 0f : i == n - 5 ? -0f : -1 - (float)random.NextDouble()),   // max +0 before −0
            Row(i => i % 2 == 0 ? -0f : 0f),                                               // all zeros, both signs
            Row(i => i == 7 ? -0f : 1 + (float)random.NextDouble()),                       // min −0
            Row(i => i == n - 1 ? 0f : 1 + (float)random.NextDouble()),                     // min +0 in the tail
            Row(i => i == 9 ? float.NegativeInfinity : (float)random.NextDouble()),
            Row(i => i == n - 2 ? float.PositiveInfinity : (float)random.NextDouble()),
            Row(i => i == 11 ? float.NaN : (float)random.NextDouble()),
            Row(i => i == n - 1 ? float.NaN : (float)random.NextDouble()),
        };
        foreach (var row in rows) CheckSame(row);
    }

    private static void CheckSame(float[] row)
    {
        int width = 2 * ((row.Length + 1) / 2) + 4;
        var actual = new ushort[width];
        var expected = new ushort[width];
        actual.AsSpan().Fill(0xBEEF);
        expected.AsSpan().Fill(0xBEEF);
        LlamaCppRowQuantizer.Quantize(row, actual);
        Reference(row, expected);
        Assert.Equal(expected, actual);
    }

    private static void Reference(ReadOnlySpan<float> logits, Span<ushort> output)
    {
        int n = logits.Length;
        float max = logits[0], min = logits[0];
        for (int i = 1; i < n; i++)
        {
            max = Math.Max(max, logits[i]);
            min = Math.Min(min, logits[i]);
        }
        min = Math.Max(min, max - 16);
        float logSumExp = (float)Math.Log(GgufOptimize.Metrics.RowSoftmax.SumExp(logits, max));
        var head = MemoryMarshal.Cast<ushort, float>(output[..4]);
        head[0] = (max - min) / 65535f;
        head[1] = min - max - logSumExp;
        float scale = head[0];
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
