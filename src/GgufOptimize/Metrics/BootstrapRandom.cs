using GgufOptimize.Common;

namespace GgufOptimize.Metrics;

/// <summary>
/// xoshiro256** seeded through SplitMix64: a generator we own, so a seed gives the same resamples on every
/// runtime and platform (System.Random makes no such promise). One stream per resample keeps results
/// independent of how resamples are spread over threads.
/// </summary>
internal struct BootstrapRandom
{
    private Xoshiro256 _generator;

    public BootstrapRandom(ulong seed, ulong stream) => _generator = new Xoshiro256(seed ^ (stream * 0xD1B54A32D192ED03UL));

    public ulong NextUInt64() => _generator.NextUInt64();

    /// <summary>Uniform integer in [0, bound) without modulo bias (Lemire's multiply-and-reject).</summary>
    public int NextInt(int bound)
    {
        ulong range = (ulong)bound;
        ulong high = Math.BigMul(NextUInt64(), range, out ulong low);
        if (low < range)
        {
            ulong threshold = (0 - range) % range;
            while (low < threshold)
                high = Math.BigMul(NextUInt64(), range, out low);
        }
        return (int)high;
    }
}
