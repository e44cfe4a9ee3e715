using System.Buffers.Binary;
using System.IO.Compression;

namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>
/// One chunk of the quantized compact encoding, decompressed, with each row's place in it. Blob: int32 rows, one byte
/// (1 = Brotli, 0 = stored), then the (compressed) rows. Row: varint byte length, then a 28-byte header — float64 log
/// normalizer, float32 next-token logit, float64 tail mass, int32 top token, int32 count (≥ 0 sparse, −1 dense float16,
/// −2 not finite) — then for a sparse row `count` varint id gaps (ids ascending, gap − 1) and `count` zig-zag varint
/// codes (<see cref="QuantizedRowSettings.Code"/>); for a dense row n_vocab float16 logits.
/// </summary>
internal sealed class QuantizedChunk
{
    public const int RowHeaderBytes = 28;
    public const int Dense = -1, NotFinite = -2, AllCodes = -3;
    public const byte Stored = 0, Brotli = 1;
    public const int BrotliQuality = 5, BrotliWindow = 22;

    private byte[] _bytes = [];
    private int[] _rowOffset = [], _rowEnd = [];

    public int Rows { get; private set; }

    /// <summary>Decompresses a blob (as written by <see cref="QuantizedChunkEncoder.Finish"/>) and indexes its rows.</summary>
    public void Load(ReadOnlySpan<byte> blob)
    {
        if (blob.Length < 5) throw new InvalidDataException("quantized chunk shorter than its header");
        int rows = BinaryPrimitives.ReadInt32LittleEndian(blob);
        if (rows < 0) throw new InvalidDataException($"quantized chunk claims {rows} rows");
        var payload = blob[5..];
        int length;
        if (blob[4] == Stored)
        {
            if (_bytes.Length < payload.Length) _bytes = new byte[payload.Length];
            payload.CopyTo(_bytes);
            length = payload.Length;
        }
        else if (blob[4] == Brotli)
        {
            using var decoder = new BrotliDecoder();
            if (_bytes.Length < 4 * payload.Length) _bytes = new byte[Math.Max(1024, 4 * payload.Length)];
            length = 0;
            while (true)
            {
                var status = decoder.Decompress(payload, _bytes.AsSpan(length), out int consumed, out int written);
                payload = payload[consumed..];
                length += written;
                if (status == System.Buffers.OperationStatus.Done) break;
                if (status == System.Buffers.OperationStatus.DestinationTooSmall) Array.Resize(ref _bytes, _bytes.Length * 2);
                else throw new InvalidDataException($"quantized chunk: Brotli stream is {status}");
            }
        }
        else throw new InvalidDataException($"quantized chunk: unknown compression {blob[4]}");

        if (_rowOffset.Length < rows + 1) { _rowOffset = new int[rows + 1]; _rowEnd = new int[rows + 1]; }
        int o = 0;
        var bytes = _bytes.AsSpan(0, length);
        for (int r = 0; r < rows; r++)
        {
            int size = (int)Varint.Read(bytes, ref o);
            if (size < RowHeaderBytes || o + size > length) throw new InvalidDataException($"quantized chunk: row {r} runs past the end");
            _rowOffset[r] = o;
            o += size;
            _rowEnd[r] = o;
        }
        if (o != length) throw new InvalidDataException("quantized chunk: bytes after the last row");
        Rows = rows;
    }

    /// <summary>The encoded bytes of row <paramref name="r"/> (header first).</summary>
    public ReadOnlySpan<byte> Row(int r)
    {
        if ((uint)r >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(r));
        return _bytes.AsSpan(_rowOffset[r], _rowEnd[r] - _rowOffset[r]);
    }

    public readonly record struct RowHeader(double LogNorm, float NextLogit, double TailMass, int Top, int Count);

    public static int WriteHeader(Span<byte> b, double logNorm, float next, double tail, int top, int count)
    {
        BinaryPrimitives.WriteDoubleLittleEndian(b, logNorm);
        BinaryPrimitives.WriteSingleLittleEndian(b[8..], next);
        BinaryPrimitives.WriteDoubleLittleEndian(b[12..], tail);
        BinaryPrimitives.WriteInt32LittleEndian(b[20..], top);
        BinaryPrimitives.WriteInt32LittleEndian(b[24..], count);
        return RowHeaderBytes;
    }

    public static RowHeader ReadHeader(ReadOnlySpan<byte> b) => new(
        BinaryPrimitives.ReadDoubleLittleEndian(b), BinaryPrimitives.ReadSingleLittleEndian(b[8..]),
        BinaryPrimitives.ReadDoubleLittleEndian(b[12..]), BinaryPrimitives.ReadInt32LittleEndian(b[20..]),
        BinaryPrimitives.ReadInt32LittleEndian(b[24..]));

    /// <summary>
    /// Decodes a sparse row: ids (ascending) and log P̂ of each kept token, scaled so the kept tokens hold exactly
    /// 1 − tail mass (P̂ and the tail then form a distribution). Returns the count.
    /// </summary>
    public static int DecodeSparse(ReadOnlySpan<byte> row, QuantizedRowSettings settings, Span<int> ids, Span<double> logP)
    {
        var h = ReadHeader(row);
        int o = RowHeaderBytes, previous = -1;
        for (int k = 0; k < h.Count; k++)
        {
            previous += 1 + (int)Varint.Read(row, ref o);
            ids[k] = previous;
        }
        double sum = 0;
        for (int k = 0; k < h.Count; k++)
        {
            double v = settings.Value(Varint.UnZigZag(Varint.Read(row, ref o)));
            logP[k] = v;
            sum += Math.Exp(v);
        }
        double shift = Math.Log(1 - h.TailMass) - Math.Log(sum);
        for (int k = 0; k < h.Count; k++) logP[k] += shift;
        return h.Count;
    }

    /// <summary>Decodes a dense row (every token): float16 logits or every token's code, log-softmaxed.</summary>
    public static void DecodeDense(ReadOnlySpan<byte> row, int vocab, QuantizedRowSettings settings, Span<double> logP)
    {
        if (ReadHeader(row).Count == AllCodes)
        {
            int o = RowHeaderBytes;
            double sum = 0;
            for (int i = 0; i < vocab; i++)
            {
                logP[i] = settings.Value(Varint.UnZigZag(Varint.Read(row, ref o)));
                sum += Math.Exp(logP[i]);
            }
            double shift = -Math.Log(sum);
            for (int i = 0; i < vocab; i++) logP[i] += shift;
            return;
        }
        double max = double.NegativeInfinity;
        for (int i = 0; i < vocab; i++)
        {
            double v = (double)BinaryPrimitives.ReadHalfLittleEndian(row[(RowHeaderBytes + 2 * i)..]);
            logP[i] = v;
            if (v > max) max = v;
        }
        double z = 0;
        for (int i = 0; i < vocab; i++) z += Math.Exp(logP[i] - max);
        double norm = max + Math.Log(z);
        for (int i = 0; i < vocab; i++) logP[i] -= norm;
    }
}
