using System.Buffers.Binary;
using System.IO.Compression;
using GgufOptimize.Metrics;

namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>
/// Encodes the logits rows of one chunk into a Brotli-compressed blob (layout: <see cref="QuantizedChunk"/>). Per row:
/// the tokens that hold all but at most ε of the probability, their log-probabilities quantized with a step that grows
/// as the probability shrinks (<see cref="QuantizedRowSettings"/>), the exact tail mass, log normalizer, next-token
/// logit and top token. A row whose sparse form would be larger than its float16 logits is stored as float16 logits.
/// While encoding it decodes its own output and records the largest total variation τ and KL(P̂‖P) κ of a decoded
/// row against the exact one: the file's error bound is built from ε, τ and κ (<see cref="QuantizedErrorBound"/>).
/// </summary>
internal sealed class QuantizedChunkEncoder
{
    private readonly QuantizedRowSettings _settings;
    private readonly int _vocab;
    private readonly CompactRowEncoder _selector;
    private byte[] _raw = new byte[1 << 16];
    private int _rawLength;
    private readonly byte[] _rowBuffer;
    private int[] _ids = new int[256];
    private int[] _sortedIds = new int[256];
    private double[] _decoded = new double[256];
    private readonly double[] _dense;
    private int _rows;

    public QuantizedChunkEncoder(QuantizedRowSettings settings, int vocab)
    {
        settings.Validate();
        _settings = settings;
        _vocab = vocab;
        _selector = new CompactRowEncoder(settings.TailMass);
        _rowBuffer = new byte[QuantizedChunk.RowHeaderBytes + 10 + 2 * vocab + 16];
        _dense = new double[vocab];
    }

    public QuantizedRowSettings Settings => _settings;
    /// <summary>Largest ½ Σ |P̂_i − P_i| over the rows encoded so far.</summary>
    public double MaxTotalVariation { get; private set; }
    /// <summary>Largest KL(P̂ ‖ P) over the rows encoded so far.</summary>
    public double MaxDecodedDivergence { get; private set; }
    /// <summary>Rows stored as float16 logits because their sparse form was larger.</summary>
    public long DenseRows { get; private set; }
    public int Rows => _rows;

    /// <summary>Appends one row; nextToken −1 = none.</summary>
    public void Add(ReadOnlySpan<float> row, int nextToken)
    {
        if (row.Length != _vocab) throw new ArgumentException($"row has {row.Length} logits, vocabulary {_vocab}");
        var stats = RowSoftmax.Stats(row);
        var buffer = _rowBuffer.AsSpan();
        int length;
        if (!stats.Finite)
        {
            length = QuantizedChunk.WriteHeader(buffer, double.NaN, float.NaN, double.NaN, -1, QuantizedChunk.NotFinite);
        }
        else
        {
            float next = nextToken >= 0 ? row[nextToken] : float.NaN;
            var (count, logNorm, tail) = _selector.SelectTop(row, stats.Max, ref _ids);
            length = TrySparse(row, count, logNorm, tail, next, stats.ArgMax, buffer);
            if (length < 0) length = TryAllCodes(row, logNorm, next, stats.ArgMax, buffer);
            if (length < 0)
            {
                length = QuantizedChunk.WriteHeader(buffer, logNorm, next, 0, stats.ArgMax, QuantizedChunk.Dense);
                for (int i = 0; i < _vocab; i++)
                    BinaryPrimitives.WriteHalfLittleEndian(buffer[(length + 2 * i)..], (Half)row[i]);
                length += 2 * _vocab;
                DenseRows++;
            }
            Check(row, logNorm, buffer[..length]);
        }
        Span<byte> prefix = stackalloc byte[5];
        int p = Varint.Write(prefix, (uint)length);
        Append(prefix[..p]);
        Append(buffer[..length]);
        _rows++;
    }

    /// <summary>The compressed blob of the rows added since the last call; starts a new chunk.</summary>
    public byte[] Finish()
    {
        var raw = _raw.AsSpan(0, _rawLength);
        var output = new byte[BrotliEncoder.GetMaxCompressedLength(raw.Length) + 5];
        BinaryPrimitives.WriteInt32LittleEndian(output, _rows);
        output[4] = QuantizedChunk.Brotli;
        using (var brotli = new BrotliEncoder(QuantizedChunk.BrotliQuality, QuantizedChunk.BrotliWindow))
        {
            if (brotli.Compress(raw, output.AsSpan(5), out _, out int written, isFinalBlock: true) == System.Buffers.OperationStatus.Done && written < raw.Length)
            {
                Array.Resize(ref output, 5 + written);
                Reset();
                return output;
            }
        }
        // Brotli could not shrink it: store the bytes as they are, so a chunk is never larger than its rows.
        var stored = new byte[5 + raw.Length];
        BinaryPrimitives.WriteInt32LittleEndian(stored, _rows);
        stored[4] = QuantizedChunk.Stored;
        raw.CopyTo(stored.AsSpan(5));
        Reset();
        return stored;
    }

    private void Reset()
    {
        _rawLength = 0;
        _rows = 0;
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_rawLength + bytes.Length > _raw.Length) Array.Resize(ref _raw, Math.Max(_rawLength + bytes.Length, 2 * _raw.Length));
        bytes.CopyTo(_raw.AsSpan(_rawLength));
        _rawLength += bytes.Length;
    }

    /// <summary>Writes the sparse form; −1 when it would be larger than the float16 row.</summary>
    private int TrySparse(ReadOnlySpan<float> row, int count, double logNorm, double tail, float next, int top, Span<byte> buffer)
    {
        int o = QuantizedChunk.WriteHeader(buffer, logNorm, next, tail, top, count);
        int limit = QuantizedChunk.RowHeaderBytes + 2 * _vocab;
        if (_sortedIds.Length < count) _sortedIds = new int[Math.Max(count, 2 * _sortedIds.Length)];
        var ids = _sortedIds.AsSpan(0, count);
        _ids.AsSpan(0, count).CopyTo(ids);
        ids.Sort();
        int previous = -1;
        foreach (int id in ids)
        {
            if (o + 10 > limit) return -1;
            o += Varint.Write(buffer[o..], (uint)(id - previous - 1));
            previous = id;
        }
        foreach (int id in ids)
        {
            if (o + 5 > limit) return -1;
            o += Varint.Write(buffer[o..], Varint.ZigZag(_settings.Code((double)row[id] - logNorm)));
        }
        return o;
    }

    /// <summary>Every token's code, no ids and no tail (flat rows, where most tokens are kept anyway); −1 when larger than float16.</summary>
    private int TryAllCodes(ReadOnlySpan<float> row, double logNorm, float next, int top, Span<byte> buffer)
    {
        int o = QuantizedChunk.WriteHeader(buffer, logNorm, next, 0, top, QuantizedChunk.AllCodes);
        int limit = QuantizedChunk.RowHeaderBytes + 2 * _vocab;
        for (int i = 0; i < _vocab; i++)
        {
            if (o + 5 > limit) return -1;
            o += Varint.Write(buffer[o..], Varint.ZigZag(_settings.Code((double)row[i] - logNorm)));
        }
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
