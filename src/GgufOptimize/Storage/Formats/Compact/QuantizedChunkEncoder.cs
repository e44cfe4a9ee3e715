using System.Buffers.Binary;
using System.IO.Compression;
using GgufOptimize.Metrics;

namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>
/// Encodes the logits rows of one chunk into a Brotli-compressed blob (layout: <see cref="QuantizedChunk"/>). Per row:
/// the tokens that hold all but at most ε of the probability, their log-probabilities quantized with a step that grows
/// as the probability shrinks (<see cref="QuantizedRowSettings"/>), the exact tail mass, log normalizer, next-token
/// logit and top token; a flat row stores every token's code without ids. Should a compressed chunk come out larger than
/// float16 rows, its largest rows are stored as float16 logits instead, so a chunk never exceeds float16 storage.
/// While encoding it records, for the row a reader will decode, the largest total variation τ = ½Σ|P̂ − P| and the
/// largest χ²(P̂‖P) = Σ (P̂ − P)²/P, an upper bound of KL(P̂‖P), as κ: the file's error bound is built from ε, τ and κ
/// (<see cref="QuantizedErrorBound"/>). Sparse rows get both from the codes directly (the decoder's P̂ is the codes'
/// values rescaled to hold 1 − P_tail), with no exp or log per token; the rare dense rows are decoded and compared.
/// With a fine tier (compact-4), <see cref="QuantizedTierRule"/> picks per row which mapping codes it; a fine row is
/// selected again at the fine tier's ε, and its τ and κ count like any other row's.
/// </summary>
internal sealed class QuantizedChunkEncoder
{
    private readonly QuantizedRowSettings _settings;
    private readonly int _vocab;
    private readonly Tier[] _tiers;
    private readonly QuantizedTierRule _rule;
    private double[] _hat = new double[1024], _logHat = new double[1024];
    private readonly double[] _allP, _allLogP;
    private byte[] _raw = new byte[1 << 16];
    private int _rawLength;
    private readonly byte[] _rowBuffer;
    private int[] _sortedIds = new int[256];
    private double[] _decoded = new double[256];
    private readonly double[] _dense;
    private float _minLogit;

    public QuantizedChunkEncoder(QuantizedRowSettings settings, int vocab)
    {
        settings.Validate();
        _settings = settings;
        _vocab = vocab;
        _tiers = settings.Fine is { } fine ? [new Tier(settings), new Tier(fine)] : [new Tier(settings)];
        _rule = new QuantizedTierRule(settings, vocab);
        _rowBuffer = new byte[QuantizedChunk.RowHeaderBytes + 3 * vocab + 24];
        _dense = new double[vocab];
        _allP = new double[vocab];
        _allLogP = new double[vocab];
    }

    public QuantizedRowSettings Settings => _settings;
    /// <summary>Brotli quality of single-stream chunks (compact-2/3; the reader takes any): a trade of CPU against size, measured in the qcompact benchmark.</summary>
    public int BrotliQuality { get; init; } = QuantizedChunk.BrotliQuality;
    /// <summary>Brotli quality of a split chunk's id stream (compact-4).</summary>
    public int IdsBrotliQuality { get; init; } = QuantizedChunk.IdsBrotliQuality;
    /// <summary>Brotli quality of a split chunk's part stream, and of its code stream when that is Brotli (compact-4).</summary>
    public int CodesBrotliQuality { get; init; } = QuantizedChunk.CodesBrotliQuality;
    /// <summary>
    /// How a split chunk's code stream is compressed: Zstandard (the default, <see cref="StreamCodec"/>, chunk kind 3)
    /// or Brotli (every stream Brotli, chunk kind 2, as the first compact-4 files).
    /// </summary>
    public byte CodesCodec { get; init; } = StreamCodec.Zstandard;
    /// <summary>Largest ½ Σ |P̂_i − P_i| over the rows encoded so far.</summary>
    public double MaxTotalVariation { get; private set; }
    /// <summary>Largest KL(P̂ ‖ P) over the rows encoded so far.</summary>
    public double MaxDecodedDivergence { get; private set; }
    /// <summary>Rows stored as float16 logits (their chunk would otherwise have been larger than float16 rows).</summary>
    public long DenseRows { get; private set; }
    public int Rows => _pending.Count;
    /// <summary>Rows coded with the fine tier (compact-4) so far.</summary>
    public long FineRows { get; private set; }

    /// <summary>One mapping with what its per-token loop needs precomputed.</summary>
    private sealed class Tier
    {
        public readonly QuantizedRowSettings Settings;
        public readonly QuantizedRowSelector Selector;
        public readonly QuantizedCodeMap Map;
        /// <summary>e^(ln knee − s·Δ) for the first log-domain steps: the unscaled P̂ of a code below the knee without an exp.</summary>
        public readonly double[] LogStepValues;

        public Tier(QuantizedRowSettings settings)
        {
            Settings = settings;
            Selector = new QuantizedRowSelector(settings.TailMass);
            Map = new QuantizedCodeMap(settings);
            LogStepValues = new double[(int)Math.Min(4096, 200 / settings.MaxLogStep)];
            for (int s = 0; s < LogStepValues.Length; s++) LogStepValues[s] = Math.Exp(settings.Value(-1 - s));
        }
    }

    /// <summary>Starts τ and κ afresh (they are recorded per chunk, so a resumed file's bound is the same as an uninterrupted one's).</summary>
    public void ResetBoundStatistics()
    {
        MaxTotalVariation = 0;
        MaxDecodedDivergence = 0;
    }

    /// <summary>Appends one row; nextToken −1 = none.</summary>
    public void Add(ReadOnlySpan<float> row, int nextToken)
    {
        if (row.Length != _vocab) throw new ArgumentException($"row has {row.Length} logits, vocabulary {_vocab}");
        var stats = RowSoftmax.Stats(row);
        var buffer = _rowBuffer.AsSpan();
        int length;
        byte[]? fallback = null;
        (double Tv, double Kl) fallbackBound = default;
        if (!stats.Finite)
        {
            length = QuantizedChunk.WriteHeader(buffer, double.NaN, float.NaN, double.NaN, -1, QuantizedChunk.NotFinite, float.NaN);
        }
        else
        {
            float next = nextToken >= 0 ? row[nextToken] : float.NaN;
            _minLogit = System.Numerics.Tensors.TensorPrimitives.Min(row);
            var tier = _tiers[0];
            tier.Selector.Select(row, stats.Max);
            if (_tiers.Length > 1 && _rule.Next(tier.Selector.Count) == 1)
            {
                tier = _tiers[1];
                tier.Selector.Select(row, stats.Max);
                FineRows++;
            }
            double logNorm = tier.Selector.LogNorm;
            length = TrySparse(tier, logNorm, tier.Selector.Tail, next, stats.ArgMax, buffer);
            if (length < 0) length = TryAllCodes(tier, row, logNorm, next, stats.ArgMax, buffer);
            if (length < 0 || length > Float16RowBytes)
            {
                // Larger than float16 before compression: keep the float16 form too, in case the compressed chunk
                // ends up larger than float16 rows would be (then Finish stores these rows as float16).
                fallback = new byte[Float16RowBytes];
                int h = QuantizedChunk.WriteHeader(fallback, logNorm, next, 0, stats.ArgMax, QuantizedChunk.Dense, _minLogit);
                for (int i = 0; i < _vocab; i++)
                    BinaryPrimitives.WriteHalfLittleEndian(fallback.AsSpan(h + 2 * i), (Half)row[i]);
                fallbackBound = Float16Bound(stats.Max, _minLogit);
            }
            if (length < 0)
            {
                fallback!.CopyTo(buffer);
                length = Float16RowBytes;
                fallback = null;
                Check(row, logNorm, buffer[..length]);
            }
        }
        _pending.Add((buffer[..length].ToArray(), fallback, fallbackBound));
    }

    private int Float16RowBytes => QuantizedChunk.RowHeaderBytes + 2 * _vocab;
    private readonly List<(byte[] Row, byte[]? Float16, (double Tv, double Kl) Float16Bound)> _pending = [];

    /// <summary>
    /// τ and KL(P̂‖P) of a row stored as float16, without decoding it: each logit moves by at most |x|·2⁻¹¹ (+ the
    /// subnormal spacing), so each log-probability by at most 2δ with δ the largest such move, P̂_i/P_i lies in
    /// [e^(−2δ), e^(2δ)], τ ≤ ½(e^(2δ) − 1) and KL(P̂‖P) ≤ 2δ. Looser than decoding, but only a chunk that falls back
    /// to float16 pays it, and none did in any measurement.
    /// </summary>
    private static (double Tv, double Kl) Float16Bound(float max, float min)
    {
        double delta = Math.Max(Math.Abs((double)max), Math.Abs((double)min)) / 2048 + 6e-8;
        return (Math.Min(1, 0.5 * (Math.Exp(2 * delta) - 1)), 2 * delta);
    }

    /// <summary>The compressed blob of the rows added since the last call; starts a new chunk.</summary>
    public byte[] Finish()
    {
        var blob = Compress(useFallbacks: false);
        long float16Chunk = 5 + (long)_pending.Count * (Float16RowBytes + 5);
        bool fallBack = blob.Length > float16Chunk && _pending.Any(r => r.Float16 is not null);
        if (fallBack)
        {
            blob = Compress(useFallbacks: true);
            foreach (var r in _pending.Where(r => r.Float16 is not null))
            {
                MaxTotalVariation = Math.Max(MaxTotalVariation, r.Float16Bound.Tv);
                MaxDecodedDivergence = Math.Max(MaxDecodedDivergence, r.Float16Bound.Kl);
            }
        }
        DenseRows += _pending.Count(r => QuantizedChunk.ReadHeader(r.Row).Count == QuantizedChunk.Dense || (fallBack && r.Float16 is not null));
        _pending.Clear();
        _rule.StartChunk();
        return blob;
    }

    private byte[] Compress(bool useFallbacks)
    {
        _rawLength = 0;
        Span<byte> prefix = stackalloc byte[5];
        foreach (var (row, float16, _) in _pending)
        {
            var bytes = useFallbacks && float16 is not null ? float16 : row;
            int p = Varint.Write(prefix, (uint)bytes.Length);
            Append(prefix[..p]);
            Append(bytes);
        }
        var raw = _raw.AsSpan(0, _rawLength);
        if (_settings.HasTiers && Split(useFallbacks, raw.Length) is { } split) return split;
        var output = new byte[BrotliEncoder.GetMaxCompressedLength(raw.Length) + 5];
        BinaryPrimitives.WriteInt32LittleEndian(output, _pending.Count);
        output[4] = QuantizedChunk.Brotli;
        using (var brotli = new BrotliEncoder(BrotliQuality, QuantizedChunk.BrotliWindow))
        {
            if (brotli.Compress(raw, output.AsSpan(5), out _, out int written, isFinalBlock: true) == System.Buffers.OperationStatus.Done && written < raw.Length)
            {
                Array.Resize(ref output, 5 + written);
                return output;
            }
        }
        // Brotli could not shrink it: store the bytes as they are, so a chunk is never larger than its rows.
        var stored = new byte[5 + raw.Length];
        BinaryPrimitives.WriteInt32LittleEndian(stored, _pending.Count);
        stored[4] = QuantizedChunk.Stored;
        raw.CopyTo(stored.AsSpan(5));
        return stored;
    }

    /// <summary>
    /// compact-4's chunk: the rows cut into three streams — per row its part lengths, header and trailer; the id gaps;
    /// the codes (or float16 logits) — each compressed on its own: parts and ids with Brotli, the codes with
    /// <see cref="CodesCodec"/> (layout: <see cref="QuantizedChunk"/>). A fast quality
    /// codes all literals of a stream with one prefix code, so mixing ids, codes and headers cost it more than the
    /// split does (qanatomy --cost 1). Null when the streams do not come out smaller than <paramref name="rawLength"/>
    /// (the caller then stores the rows as they are).
    /// </summary>
    private byte[]? Split(bool useFallbacks, int rawLength)
    {
        var parts = new MemoryStream();
        var ids = new MemoryStream();
        var codes = new MemoryStream();
        Span<byte> varint = stackalloc byte[5];
        int trailer = QuantizedChunk.TrailerBytes(_settings);
        foreach (var (row, float16, _) in _pending)
        {
            var bytes = (useFallbacks && float16 is not null ? float16 : row).AsSpan();
            var h = QuantizedChunk.ReadHeader(bytes);
            int idsEnd = QuantizedChunk.RowHeaderBytes;
            if (h.Count > 0) for (int k = 0; k < h.Count; k++) Varint.Read(bytes, ref idsEnd);
            int tail = h.Count is QuantizedChunk.Dense or QuantizedChunk.NotFinite ? 0 : trailer;
            foreach (int length in new[] { idsEnd - QuantizedChunk.RowHeaderBytes, bytes.Length - idsEnd - tail, tail })
                parts.Write(varint[..Varint.Write(varint, (uint)length)]);
            parts.Write(bytes[..QuantizedChunk.RowHeaderBytes]);
            parts.Write(bytes[^tail..]);
            ids.Write(bytes[QuantizedChunk.RowHeaderBytes..idsEnd]);
            codes.Write(bytes[idsEnd..^tail]);
        }
        bool coded = CodesCodec != StreamCodec.Brotli;
        var streams = coded
            ? new[] { StreamCodec.Encode(Raw(parts), StreamCodec.Brotli, CodesBrotliQuality), StreamCodec.Encode(Raw(ids), StreamCodec.Brotli, IdsBrotliQuality),
                      StreamCodec.Encode(Raw(codes), CodesCodec, CodesCodec == StreamCodec.Zstandard ? StreamCodec.ZstandardLevel : CodesBrotliQuality) }
            : new[] { (parts, CodesBrotliQuality), (ids, IdsBrotliQuality), (codes, CodesBrotliQuality) }.Select(x => Compressed(x.Item1, x.Item2)).ToArray();
        if (streams.Any(x => x is null)) return null;
        var output = new MemoryStream();
        Span<byte> head = stackalloc byte[5];
        BinaryPrimitives.WriteInt32LittleEndian(head, _pending.Count);
        head[4] = coded ? QuantizedChunk.SplitCoded : QuantizedChunk.SplitBrotli;
        output.Write(head);
        foreach (var x in streams) output.Write(varint[..Varint.Write(varint, (uint)x!.Length)]);
        foreach (var x in streams) output.Write(x);
        return output.Length < rawLength + 5 ? output.ToArray() : null;
    }

    private static ReadOnlySpan<byte> Raw(MemoryStream stream) => stream.GetBuffer().AsSpan(0, (int)stream.Length);

    private static byte[]? Compressed(MemoryStream stream, int quality)
    {
        var raw = Raw(stream);
        var output = new byte[BrotliEncoder.GetMaxCompressedLength(raw.Length)];
        using var brotli = new BrotliEncoder(quality, QuantizedChunk.BrotliWindow);
        if (brotli.Compress(raw, output, out _, out int written, isFinalBlock: true) != System.Buffers.OperationStatus.Done) return null;
        return output[..written];
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_rawLength + bytes.Length > _raw.Length) Array.Resize(ref _raw, Math.Max(_rawLength + bytes.Length, 2 * _raw.Length));
        bytes.CopyTo(_raw.AsSpan(_rawLength));
        _rawLength += bytes.Length;
    }

    // Before compression a row may take up to 3 bytes a token (Brotli brings varint codes well under 2); the chunk-level
    // check in Finish keeps the result no larger than float16 rows.
    private int RawLimit => QuantizedChunk.RowHeaderBytes + 3 * _vocab;

    /// <summary>
    /// Writes the sparse form of the selected tokens and folds the decoded row's τ and χ² into the maxima; −1 when it
    /// would take more than <see cref="RawLimit"/> bytes.
    /// </summary>
    private int TrySparse(Tier tier, double logNorm, double tail, float next, int top, Span<byte> buffer)
    {
        var selector = tier.Selector;
        int count = selector.Count;
        int o = QuantizedChunk.WriteHeader(buffer, logNorm, next, tail, top, count, _minLogit);
        int limit = RawLimit;
        int previous = -1;
        foreach (int id in selector.Ids)
        {
            if (o + 10 > limit) return -1;
            o += Varint.Write(buffer[o..], (uint)(id - previous - 1));
            previous = id;
        }
        return WriteCodes(tier, selector.P, selector.LogP, 1 - tail, buffer, o);
    }

    /// <summary>Every token's code, no ids and no tail (flat rows, where most tokens are kept anyway); −1 when larger than <see cref="RawLimit"/>.</summary>
    private int TryAllCodes(Tier tier, ReadOnlySpan<float> row, double logNorm, float next, int top, Span<byte> buffer)
    {
        int o = QuantizedChunk.WriteHeader(buffer, logNorm, next, 0, top, QuantizedChunk.AllCodes, _minLogit);
        for (int i = 0; i < _vocab; i++)
        {
            _allLogP[i] = (double)row[i] - logNorm;
            _allP[i] = Math.Exp(_allLogP[i]);
        }
        return WriteCodes(tier, _allP, _allLogP, 1, buffer, o);
    }

    /// <summary>
    /// Appends the codes of tokens with exact probabilities <paramref name="p"/> (log <paramref name="logP"/>) and folds
    /// τ and χ² of the row a reader decodes — the codes' values rescaled to hold <paramref name="kept"/> — into the
    /// maxima, with no exp or log per token; −1 when the row would exceed <see cref="RawLimit"/> (nothing folded then).
    /// </summary>
    private int WriteCodes(Tier tier, ReadOnlySpan<double> p, ReadOnlySpan<double> logP, double kept, Span<byte> buffer, int o)
    {
        var settings = tier.Settings;
        var map = tier.Map;
        var logStepValues = tier.LogStepValues;
        int count = p.Length, limit = RawLimit;
        if (_hat.Length < count)
        {
            _hat = new double[Math.Max(count, 2 * _hat.Length)];
            _logHat = new double[_hat.Length];
        }
        double knee = settings.Knee, rho = settings.ProbabilityStep;
        double maxLogError = settings.MaxLogError;
        double sum = 0;
        for (int k = 0; k < count; k++)
        {
            if (o + 5 > limit) return -1;
            int code;
            double hat;
            if (p[k] >= knee)
            {
                code = (int)Math.Max(1, Math.Round(p[k] / rho));
                hat = code * rho;
                _logHat[k] = Math.Log(hat);
            }
            else
            {
                code = map.LogCode(logP[k]);
                int steps = -1 - code;
                double logHat = map.Value(code);
                hat = steps < logStepValues.Length ? logStepValues[steps] : Math.Exp(logHat);
                _logHat[k] = logHat;
            }
            o += Varint.Write(buffer[o..], Varint.ZigZag(code));
            _hat[k] = hat;
            sum += hat;
        }
        double scale = kept / sum, tv = 0, chi2 = 0, logScale = Math.Log(scale), divergence = 0;
        bool trailer = _settings.HasCorrection;
        for (int k = 0; k < count; k++)
        {
            double d = scale * _hat[k] - p[k];
            // D = Σ P̂·log(P̂/P), the part of KLD̂ − KLD that does not depend on the target: the reader subtracts it.
            if (trailer) divergence += scale * _hat[k] * (logScale + _logHat[k] - logP[k]);
            tv += Math.Abs(d);
            // A P that underflowed to 0 in double (a logit some 745 nats below the normalizer) is still > 0: its KL share
            // P̂·log(P̂/P) is at most P̂·(Δ + |log scale|), the code's error plus the rescaling.
            if (p[k] > 0) chi2 += d * d / p[k];
            else chi2 += scale * _hat[k] * (maxLogError + Math.Abs(Math.Log(scale)));
        }
        if (trailer)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(buffer[o..], divergence);
            o += 8;
        }
        if (_settings.HasTiers) buffer[o++] = (byte)(tier == _tiers[0] ? 0 : 1);
        MaxTotalVariation = Math.Max(MaxTotalVariation, tv / 2);
        MaxDecodedDivergence = Math.Max(MaxDecodedDivergence, chi2);
        return o;
    }

    /// <summary>Decodes the row just written and folds its deviation from the exact row into τ and κ.</summary>
    private void Check(ReadOnlySpan<float> row, double logNorm, ReadOnlySpan<byte> encoded)
    {
        var header = QuantizedChunk.ReadHeader(encoded);
        double tv = 0, kl = 0;
        if (header.Count is QuantizedChunk.Dense or QuantizedChunk.AllCodes)
        {
            QuantizedChunk.DecodeDense(encoded, _vocab, _settings, _dense);
            for (int i = 0; i < _vocab; i++) Accumulate(_dense[i], row[i] - logNorm, ref tv, ref kl);
        }
        else
        {
            if (_decoded.Length < header.Count) _decoded = new double[Math.Max(header.Count, 2 * _decoded.Length)];
            int count = QuantizedChunk.DecodeSparse(encoded, _settings, _sortedIds, _decoded);
            for (int k = 0; k < count; k++) Accumulate(_decoded[k], row[_sortedIds[k]] - logNorm, ref tv, ref kl);
        }
        MaxTotalVariation = Math.Max(MaxTotalVariation, tv / 2);
        MaxDecodedDivergence = Math.Max(MaxDecodedDivergence, Math.Max(0, kl));
    }

    private static void Accumulate(double decoded, double exact, ref double tv, ref double kl)
    {
        double p = Math.Exp(exact), q = Math.Exp(decoded);
        tv += Math.Abs(q - p);
        if (q > 0) kl += q * (decoded - exact);
    }
}
