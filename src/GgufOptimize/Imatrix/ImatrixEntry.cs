using GgufOptimize.Common;

namespace GgufOptimize.Imatrix;

/// <summary>
/// What an importance matrix knows about one weight: per input column the sum of squared activations,
/// and how many activation rows were summed. A dense weight has one count; a mixture-of-experts weight has
/// one per expert, each owning <see cref="Width"/> consecutive sums.
/// </summary>
internal sealed class ImatrixEntry
{
    public string Name { get; }
    public double[] Sums { get; private set; }
    public long[] Counts { get; private set; }

    public ImatrixEntry(string name, double[] sums, long[] counts)
    {
        if (counts.Length == 0 || sums.Length == 0 || sums.Length % counts.Length != 0)
            throw new ArgumentException($"imatrix entry '{name}': {sums.Length} sums cannot be split over {counts.Length} counts");
        Name = name;
        Sums = sums;
        Counts = counts;
    }

    /// <summary>Sums per count (the input columns of one matrix).</summary>
    public int Width => Sums.Length / Counts.Length;

    public int Groups => Counts.Length;

    /// <summary>Whether some group (expert) never saw an activation.</summary>
    public bool HasEmptyGroups => Counts.Any(c => c == 0);

    public ImatrixEntry Clone() => new(Name, (double[])Sums.Clone(), (long[])Counts.Clone());

    /// <summary>
    /// Adds sums and counts measured or loaded elsewhere. One count against several is broadcast (an older
    /// dense imatrix merged with a per-expert one), as llama-imatrix does.
    /// </summary>
    public void Add(ReadOnlySpan<double> sums, ReadOnlySpan<long> counts)
    {
        if (sums.Length != Sums.Length)
            throw GgufOptimizeException.BadInput($"imatrix entry '{Name}' has {Sums.Length} values in one source and {sums.Length} in another");
        if (counts.Length != Counts.Length)
        {
            if (Counts.Length == 1 && sums.Length % counts.Length == 0)
                Counts = Enumerable.Repeat(Counts[0], counts.Length).ToArray();
            else if (counts.Length == 1 && Sums.Length % Counts.Length == 0)
            {
                for (int i = 0; i < Counts.Length; i++) Counts[i] += counts[0];
                AddSums(sums);
                return;
            }
            else
                throw GgufOptimizeException.BadInput($"imatrix entry '{Name}' has {Counts.Length} counts in one source and {counts.Length} in another");
        }
        for (int i = 0; i < Counts.Length; i++) Counts[i] += counts[i];
        AddSums(sums);
    }

    private void AddSums(ReadOnlySpan<double> sums)
    {
        var target = Sums.AsSpan();
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            int n = System.Numerics.Vector<double>.Count;
            for (; i <= target.Length - n; i += n)
                (new System.Numerics.Vector<double>(target[i..]) + new System.Numerics.Vector<double>(sums[i..])).CopyTo(target[i..]);
        }
        for (; i < target.Length; i++) target[i] += sums[i];
    }

    /// <summary>
    /// The per-column importance llama.cpp's quantizer wants: mean squared activation per group, 1 for a
    /// group that saw nothing (so it weighs all columns equally there).
    /// </summary>
    public float[] MeanSquares()
    {
        var result = new float[Sums.Length];
        int width = Width;
        for (int g = 0; g < Counts.Length; g++)
        {
            long count = Counts[g];
            for (int i = 0; i < width; i++)
                result[g * width + i] = count > 0 ? (float)(Sums[g * width + i] / count) : 1f;
        }
        return result;
    }
}
