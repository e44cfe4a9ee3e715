using System.Text;
using GgufOptimize.Common;

namespace GgufOptimize.Synthetic;

/// <summary>
/// xoshiro256** seeded through SplitMix64: the same seed gives the same stream on every run and .NET version
/// (System.Random makes no such promise). Streams are derived per tensor and per row, so any row can be
/// generated on its own.
/// </summary>
internal sealed class DeterministicRandom
{
    private Xoshiro256 _generator;
    private double _spare;
    private bool _hasSpare;

    public DeterministicRandom(ulong seed) => _generator = new Xoshiro256(seed);

    /// <summary>A stream for one named part (a tensor) and index (a row) of a seeded whole.</summary>
    public static DeterministicRandom For(ulong seed, string part, long index = 0)
    {
        ulong h = 14695981039346656037UL; // FNV-1a over the part name
        foreach (byte b in Encoding.UTF8.GetBytes(part)) h = (h ^ b) * 1099511628211UL;
        ulong x = seed ^ h;
        ulong mixed = Xoshiro256.SplitMix(ref x) ^ (ulong)index * 0x9E3779B97F4A7C15UL;
        return new DeterministicRandom(mixed);
    }

    public ulong NextUInt64() => _generator.NextUInt64();

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n).</summary>
    public int NextInt(int n) => (int)((NextUInt64() >> 33) * (ulong)n >> 31);

    /// <summary>Standard normal (Box–Muller, pairs cached).</summary>
    public double NextGaussian()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spare;
        }
        double u1 = 1.0 - NextDouble(); // (0, 1]: log stays finite
        double u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        var (sin, cos) = Math.SinCos(2 * Math.PI * u2);
        _spare = r * sin;
        _hasSpare = true;
        return r * cos;
    }

    public void Shuffle<T>(IList<T> items)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
