using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using GgufOptimize.Metrics;

namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>
/// Finds the tokens the quantized encoding keeps — the most probable ones (ties: lower id) until the rest holds at most
/// ε — without sorting them all: candidates (logit above a cut) go into bins of 1/16 nat by their distance to the max;
/// whole bins are kept from the top until the mass below is at most ε, and only the candidates of the one boundary bin
/// are sorted. The kept tokens come out in ascending id order (the order the encoding stores them), each with its
/// probability and log-probability in double precision, so the encoder needs no further exp or log per token. The row's
/// normalizer is exact but for the mass below the candidate cut, summed in single precision: its relative error is at
/// most <see cref="BelowSumError"/> times the tail (≤ 3e-9 of the row at the default ε), and the tail kept is held that
/// much under ε.
/// </summary>
internal sealed class QuantizedRowSelector(double tailMass)
{
    private const double BinsPerNat = 16;

    /// <summary>
    /// Largest relative error of the mass below the cut as <see cref="Collect"/> sums it: e^x within 2.5e-7 (VectorExpSingle),
    /// each lane adds at most 64 terms in single precision before the sum goes to double (≤ 64 · 6e-8), with room to spare.
    /// </summary>
    internal const double BelowSumError = 1e-5;
    private int[] _ids = new int[1024];
    private double[] _e = new double[1024];
    private int[] _bin = new int[1024];
    private bool[] _keep = new bool[1024];
    private double[] _binMass = new double[64];
    private ulong[] _boundary = new ulong[64];

    /// <summary>Kept ids (ascending), their P and log P; valid until the next call.</summary>
    public int Count { get; private set; }
    public ReadOnlySpan<int> Ids => _keptIds.AsSpan(0, Count);
    public ReadOnlySpan<double> P => _keptP.AsSpan(0, Count);
    public ReadOnlySpan<double> LogP => _keptLogP.AsSpan(0, Count);
    public double LogNorm { get; private set; }
    public double Tail { get; private set; }
    private int[] _keptIds = new int[1024];
    private bool _deepFirst;
    private double[] _keptP = new double[1024], _keptLogP = new double[1024];

    public void Select(ReadOnlySpan<float> row, float max)
    {
        // As the compact-1 selection: a first cut ln ε − 4 below the max usually holds all but ε; ln(ε / n_vocab) − 1
        // always does (the tokens below it hold less than ε together). Which cut is used changes only how many candidates
        // are looked at, never the tokens kept. Wide rows come in runs, and each costs a wasted pass over the row when
        // the first cut fails, so after a row that needed the deep cut the next one starts with it.
        float shallow = (float)(max + Math.Log(tailMass) - 4), deep = (float)(max + Math.Log(tailMass / row.Length) - 1);
        float cut = _deepFirst ? deep : shallow;
        var (n, below) = Collect(row, cut, max);
        double sum = below + Sum(n);
        if (below > tailMass * sum)
        {
            cut = deep;
            (n, below) = Collect(row, cut, max);
            sum = below + Sum(n);
            _deepFirst = true;
        }
        LogNorm = max + Math.Log(sum);
        if (_deepFirst && cut < shallow)
        {
            // Would the first cut have done? Then the next row starts with it again.
            double belowShallow = below;
            for (int k = 0; k < n; k++) if (row[_ids[k]] < shallow) belowShallow += _e[k];
            _deepFirst = belowShallow > tailMass * sum;
        }
        int bins = (int)((max - cut) * BinsPerNat) + 2;
        if (_binMass.Length < bins) _binMass = new double[bins];
        var binMass = _binMass.AsSpan(0, bins);
        binMass.Clear();
        for (int k = 0; k < n; k++) binMass[_bin[k]] += _e[k];

        // Walk up from the least probable bin: rest = mass strictly below bin b, summed small to large. The limit is ε less
        // the relative error the single-precision sum below the cut may carry, so the true tail stays ≤ ε (the bound's ε).
        double limit = tailMass * sum * (1 - BelowSumError), rest = below;
        int boundary = -1;
        for (int b = bins - 1; b >= 0; b--)
        {
            if (rest + binMass[b] > limit) { boundary = b; break; }
            rest += binMass[b];
        }

        // Inside the boundary bin: its candidates by descending logit (ties: lower id), kept until the rest is ≤ limit.
        int m = 0;
        for (int k = 0; k < n; k++)
        {
            _keep[k] = _bin[k] < boundary;
            if (_bin[k] == boundary)
            {
                if (m == _boundary.Length) Array.Resize(ref _boundary, 2 * m);
                _boundary[m++] = ((ulong)~Sortable(row[_ids[k]]) << 32) | (uint)k;
            }
        }
        if (m > 0)
        {
            var keys = _boundary.AsSpan(0, m);
            keys.Sort();
            // suffix from the smallest: the rest after keeping the first j of the bin.
            double inBin = 0;
            int keepInBin = m;
            for (int j = m - 1; j >= 0; j--)
            {
                if (rest + inBin + _e[(int)(uint)keys[j]] > limit) { keepInBin = j + 1; break; }
                inBin += _e[(int)(uint)keys[j]];
                keepInBin = j;
            }
            for (int j = 0; j < keepInBin; j++) _keep[(int)(uint)keys[j]] = true;
            rest += inBin;
        }
        Tail = rest / sum;

        int count = 0;
        for (int k = 0; k < n; k++) if (_keep[k]) count++;
        if (_keptIds.Length < count)
        {
            int size = Math.Max(count, 2 * _keptIds.Length);
            _keptIds = new int[size];
            _keptP = new double[size];
            _keptLogP = new double[size];
        }
        int o = 0;
        for (int k = 0; k < n; k++)
        {
            if (!_keep[k]) continue;
            _keptIds[o] = _ids[k];
            _keptP[o] = _e[k] / sum;
            _keptLogP[o] = (double)row[_ids[k]] - LogNorm;
            o++;
        }
        Count = count;
    }

    /// <summary>
    /// Every token with logit ≥ cut, in id order, with e^(x − max) in double and its bin; and, in the same pass, the mass
    /// of the tokens below the cut. That mass is at most ε of the row whenever the cut is used (else the deep cut is
    /// taken, below which it is smaller still), so a single-precision exp moves the row's normalizer and tail by at most
    /// <see cref="BelowSumError"/> of the tail: the candidates, whose values are coded, keep double precision.
    /// </summary>
    private (int Count, double Below) Collect(ReadOnlySpan<float> row, float cut, float max)
    {
        int n = 0, i = 0;
        double below = 0;
        ref float start = ref MemoryMarshal.GetReference(row);
        if (Vector512.IsHardwareAccelerated)
        {
            var c = Vector512.Create(cut);
            var m = Vector512.Create(max);
            var block = Vector512<float>.Zero;
            int inBlock = 0;
            for (; i <= row.Length - 16; i += 16)
            {
                var v = Vector512.LoadUnsafe(ref start, (nuint)i);
                var candidate = Vector512.GreaterThanOrEqual(v, c);
                block += Vector512.AndNot(VectorExpSingle.ExpNonPositive(v - m), candidate);
                ulong hits = candidate.ExtractMostSignificantBits();
                while (hits != 0)
                {
                    int j = i + BitOperations.TrailingZeroCount(hits);
                    hits &= hits - 1;
                    Add(ref n, row[j], j, max);
                }
                // Float sums of at most 64 terms per lane (relative error ≤ 64 ulp), then double.
                if (++inBlock == 64) { below += WidenedSum(block); block = Vector512<float>.Zero; inBlock = 0; }
            }
            below += WidenedSum(block);
        }
        else
        {
            var c = Vector256.Create(cut);
            var m = Vector256.Create(max);
            var block = Vector256<float>.Zero;
            int inBlock = 0;
            for (; i <= row.Length - 8; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref start, (nuint)i);
                var candidate = Vector256.GreaterThanOrEqual(v, c);
                block += Vector256.AndNot(VectorExpSingle.ExpNonPositive(v - m), candidate);
                uint hits = candidate.ExtractMostSignificantBits();
                while (hits != 0)
                {
                    int j = i + BitOperations.TrailingZeroCount(hits);
                    hits &= hits - 1;
                    Add(ref n, row[j], j, max);
                }
                if (++inBlock == 64) { below += WidenedSum(block); block = Vector256<float>.Zero; inBlock = 0; }
            }
            below += WidenedSum(block);
        }
        for (; i < row.Length; i++)
        {
            if (row[i] >= cut) Add(ref n, row[i], i, max);
            else below += Math.Exp((double)row[i] - max);
        }
        // e^(x − max) of every candidate four at a time (a high-entropy row has tens of thousands): the vectorized exp is
        // within 1 ulp of Math.Exp.
        var e = _e.AsSpan(0, n);
        int k = 0;
        for (; k <= n - 4; k += 4)
            VectorExp.ExpNonPositive(Vector256.Create(e.Slice(k, 4))).CopyTo(e.Slice(k, 4));
        for (; k < n; k++) e[k] = Math.Exp(e[k]);
        return (n, below);
    }

    private double Sum(int n)
    {
        double sum = 0;
        foreach (double e in _e.AsSpan(0, n)) sum += e;
        return sum;
    }

    private static double WidenedSum(Vector512<float> v)
    {
        var (lo, hi) = Vector512.Widen(v);
        return Vector512.Sum(lo + hi);
    }

    private static double WidenedSum(Vector256<float> v)
    {
        var (lo, hi) = Vector256.Widen(v);
        return Vector256.Sum(lo + hi);
    }

    /// <summary>Appends a candidate with its bin; <c>_e</c> holds x − max until <see cref="Collect"/> exponentiates it.</summary>
    private void Add(ref int n, float value, int id, float max)
    {
        if (n == _ids.Length)
        {
            Array.Resize(ref _ids, 2 * n);
            Array.Resize(ref _e, 2 * n);
            Array.Resize(ref _bin, 2 * n);
            Array.Resize(ref _keep, 2 * n);
        }
        double d = (double)value - max;
        _ids[n] = id;
        _e[n] = d;
        _bin[n] = (int)(-d * BinsPerNat);
        n++;
    }

    /// <summary>Maps a finite float to a uint whose unsigned order is the float order.</summary>
    private static uint Sortable(float v)
    {
        uint bits = BitConverter.SingleToUInt32Bits(v);
        return (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
    }
}
