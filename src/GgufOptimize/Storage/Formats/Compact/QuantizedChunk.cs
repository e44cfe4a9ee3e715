using System.Buffers.Binary;
using System.IO.Compression;

namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>
/// One chunk of the quantized compact encoding, decompressed, with each row's place in it. Blob: int32 rows, one byte
/// (1 = Brotli, 0 = stored, 2 = split, 3 = split with a codec per stream), then the (compressed) rows. Split (compact-4):
/// three varint byte lengths, then three streams — per row three varint lengths (id gaps, codes, trailer), its 32-byte
/// header and its trailer; every row's id gaps; every row's codes (or float16 logits) — from which the rows are put back
/// together as below; each stream is Brotli (2), or (3) one codec byte (<see cref="StreamCodec"/>) and the stream in
/// that codec. Row: varint byte length, then a 32-byte header — float64 log
/// normalizer, float64 tail mass, float32 next-token logit, float32 smallest logit of the row (it bounds the tail tokens'
/// log-probabilities from below, for the per-position error bound), int32 top token, int32 count (≥ 0 sparse, −1 dense
/// float16, −2 not finite, −3 every token's code) — then for a sparse row `count` varint id gaps (ids ascending, gap − 1) and `count` zig-zag varint
/// codes (<see cref="QuantizedRowSettings.Code"/>); for a dense row n_vocab float16 logits. compact-3 (a second knee)
/// appends to every sparse and every-code row a float64 D = Σ P̂·log(P̂/P) over its kept tokens: KLD − KLD̂ = P_tail·KL(P|tail‖Q|tail)
/// + Σ (P − P̂)(r − c) − D exactly, so subtracting D (<see cref="Correction"/>) removes the part of the error that the
/// coarse codes would otherwise add to every KLD with the same sign. compact-4 (settings with a fine tier) appends after D
/// one byte: the tier whose mapping coded the row (0 coarse, 1 fine; <see cref="QuantizedTierRule"/>).
/// </summary>
internal sealed class QuantizedChunk
{
    public const int RowHeaderBytes = 32;
    public const int Dense = -1, NotFinite = -2, AllCodes = -3;
    public const byte Stored = 0, Brotli = 1, SplitBrotli = 2, SplitCoded = 3;
    /// <summary>Quality 4: 2.5× faster than 5 for 0.3 % more bytes on the 128k realistic model (qcompact --writer 1 --profile 1).</summary>
    public const int BrotliQuality = 4, BrotliWindow = 22;
    /// <summary>
    /// compact-4's split chunks: every stream at quality 4. On one chunk of the realistic 128k model (qanatomy --cost 1)
    /// the split saves 1.5 % of the bytes of compact-3's single quality-4 stream; lower qualities for the codes or the
    /// ids (2, 1) cost 1–4 % more bytes and their CPU saving was within the noise of three runs at load 5–8, so they are
    /// left as encoder options.
    /// </summary>
    public const int CodesBrotliQuality = 4, IdsBrotliQuality = 4;

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
        else if (blob[4] is SplitBrotli or SplitCoded) length = Join(payload, rows, blob[4] == SplitCoded);
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

    /// <summary>Decompresses a split chunk's three streams and puts its rows back together in <c>_bytes</c> (as a Brotli chunk holds them); returns their length.</summary>
    private int Join(ReadOnlySpan<byte> payload, int rows, bool coded)
    {
        int o = 0;
        var lengths = new long[3];
        for (int s = 0; s < 3; s++)
            lengths[s] = Varint.TryRead(payload, ref o, out uint v) ? v : throw new InvalidDataException("quantized chunk: split stream lengths run past the end");
        if (o + lengths.Sum() != payload.Length) throw new InvalidDataException("quantized chunk: split streams do not fill the chunk");
        var streams = new byte[3][];
        var sizes = new int[3];
        for (int s = 0; s < 3; s++)
        {
            var stream = payload.Slice(o, (int)lengths[s]);
            if (!coded) (streams[s], sizes[s]) = Decompress(stream);
            else if (stream.IsEmpty) throw new InvalidDataException("quantized chunk: a split stream without its codec byte");
            else (streams[s], sizes[s]) = StreamCodec.Decode(stream[0], stream[1..]);
            o += (int)lengths[s];
        }
        var parts = streams[0].AsSpan(0, sizes[0]);
        int p = 0, i = 0, c = 0, length = 0;
        Span<byte> prefix = stackalloc byte[5];
        for (int r = 0; r < rows; r++)
        {
            if (!Varint.TryRead(parts, ref p, out uint ids) || !Varint.TryRead(parts, ref p, out uint codes) || !Varint.TryRead(parts, ref p, out uint trailer)
                || (long)p + RowHeaderBytes + trailer > sizes[0] || (long)i + ids > sizes[1] || (long)c + codes > sizes[2])
                throw new InvalidDataException($"quantized chunk: split row {r} runs past its streams");
            long size = RowHeaderBytes + (long)ids + codes + trailer;
            if (size > int.MaxValue / 2) throw new InvalidDataException($"quantized chunk: split row {r} claims {size} bytes");
            int n = Varint.Write(prefix, (uint)size);
            if (_bytes.Length < length + n + size) Array.Resize(ref _bytes, (int)Math.Max(2L * _bytes.Length, length + n + size));
            prefix[..n].CopyTo(_bytes.AsSpan(length));
            length += n;
            parts.Slice(p, RowHeaderBytes).CopyTo(_bytes.AsSpan(length));
            length += RowHeaderBytes;
            p += RowHeaderBytes;
            streams[1].AsSpan(i, (int)ids).CopyTo(_bytes.AsSpan(length));
            length += (int)ids;
            i += (int)ids;
            streams[2].AsSpan(c, (int)codes).CopyTo(_bytes.AsSpan(length));
            length += (int)codes;
            c += (int)codes;
            parts.Slice(p, (int)trailer).CopyTo(_bytes.AsSpan(length));
            length += (int)trailer;
            p += (int)trailer;
        }
        if (p != sizes[0] || i != sizes[1] || c != sizes[2]) throw new InvalidDataException("quantized chunk: bytes left in its split streams");
        return length;
    }

    internal static (byte[] Bytes, int Length) Decompress(ReadOnlySpan<byte> payload)
    {
        using var decoder = new BrotliDecoder();
        var bytes = new byte[Math.Max(1024, 4 * payload.Length)];
        int length = 0;
        while (true)
        {
            var status = decoder.Decompress(payload, bytes.AsSpan(length), out int consumed, out int written);
            payload = payload[consumed..];
            length += written;
            if (status == System.Buffers.OperationStatus.Done) return (bytes, length);
            if (status == System.Buffers.OperationStatus.DestinationTooSmall) Array.Resize(ref bytes, bytes.Length * 2);
            else throw new InvalidDataException($"quantized chunk: Brotli stream is {status}");
        }
    }

    /// <summary>The encoded bytes of row <paramref name="r"/> (header first).</summary>
    public ReadOnlySpan<byte> Row(int r)
    {
        if ((uint)r >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(r));
        return _bytes.AsSpan(_rowOffset[r], _rowEnd[r] - _rowOffset[r]);
    }

    public readonly record struct RowHeader(double LogNorm, float NextLogit, double TailMass, int Top, int Count, float MinLogit);

    public static int WriteHeader(Span<byte> b, double logNorm, float next, double tail, int top, int count, float minLogit)
    {
        BinaryPrimitives.WriteDoubleLittleEndian(b, logNorm);
        BinaryPrimitives.WriteDoubleLittleEndian(b[8..], tail);
        BinaryPrimitives.WriteSingleLittleEndian(b[16..], next);
        BinaryPrimitives.WriteSingleLittleEndian(b[20..], minLogit);
        BinaryPrimitives.WriteInt32LittleEndian(b[24..], top);
        BinaryPrimitives.WriteInt32LittleEndian(b[28..], count);
        return RowHeaderBytes;
    }

    public static RowHeader ReadHeader(ReadOnlySpan<byte> b) => new(
        BinaryPrimitives.ReadDoubleLittleEndian(b), BinaryPrimitives.ReadSingleLittleEndian(b[16..]),
        BinaryPrimitives.ReadDoubleLittleEndian(b[8..]), BinaryPrimitives.ReadInt32LittleEndian(b[24..]),
        BinaryPrimitives.ReadInt32LittleEndian(b[28..]), BinaryPrimitives.ReadSingleLittleEndian(b[20..]));

    /// <summary>
    /// Checks every row of the loaded chunk against the structure the decoder relies on, without decoding values: the
    /// header's numbers, ids strictly ascending inside the vocabulary, exactly the bytes the row's kind needs. Returns
    /// null, or what is wrong (the first problem found).
    /// </summary>
    public string? Validate(int vocab, int nextTokenRows, QuantizedRowSettings settings)
    {
        int extra = TrailerBytes(settings);
        for (int r = 0; r < Rows; r++)
        {
            var row = Row(r);
            var h = ReadHeader(row);
            if (h.Count == NotFinite)
            {
                if (row.Length != RowHeaderBytes) return $"row {r}: a non-finite row carries {row.Length - RowHeaderBytes} bytes of data";
                continue;
            }
            if (!double.IsFinite(h.LogNorm) || !float.IsFinite(h.MinLogit) || (uint)h.Top >= (uint)vocab)
                return $"row {r}: log normalizer {h.LogNorm}, smallest logit {h.MinLogit}, top token {h.Top}";
            if (r < nextTokenRows && !float.IsFinite(h.NextLogit)) return $"row {r}: next-token logit {h.NextLogit}";
            if (h.Count == Dense)
            {
                if (row.Length != RowHeaderBytes + 2 * vocab) return $"row {r}: a float16 row of {row.Length} bytes, not {RowHeaderBytes + 2 * vocab}";
                for (int i = 0; i < vocab; i++)
                    if (!Half.IsFinite(BinaryPrimitives.ReadHalfLittleEndian(row[(RowHeaderBytes + 2 * i)..]))) return $"row {r}: float16 logit {i} is not finite";
                continue;
            }
            if (h.Count == AllCodes)
            {
                int o = RowHeaderBytes;
                for (int i = 0; i < vocab; i++)
                    if (!Varint.TryRead(row, ref o, out _)) return $"row {r}: code {i} runs past the row";
                if (o + extra != row.Length) return $"row {r}: {row.Length - o} bytes after its codes, not {extra}";
                if (Trailer(r, row, settings) is { } bad) return bad;
                continue;
            }
            if (h.Count < 1 || h.Count > vocab) return $"row {r}: {h.Count} kept tokens (vocabulary {vocab})";
            if (!(h.TailMass >= 0 && h.TailMass < 1)) return $"row {r}: tail mass {h.TailMass}";
            {
                int o = RowHeaderBytes;
                long previous = -1;
                for (int k = 0; k < h.Count; k++)
                {
                    if (!Varint.TryRead(row, ref o, out uint gap)) return $"row {r}: id {k} runs past the row";
                    previous += 1 + (long)gap;
                    if (previous >= vocab) return $"row {r}: token id {previous} outside the vocabulary of {vocab}";
                }
                for (int k = 0; k < h.Count; k++)
                    if (!Varint.TryRead(row, ref o, out _)) return $"row {r}: code {k} runs past the row";
                if (o + extra != row.Length) return $"row {r}: {row.Length - o} bytes after its codes, not {extra}";
                if (Trailer(r, row, settings) is { } bad) return bad;
            }
        }
        return null;
    }

    private static string? Trailer(int r, ReadOnlySpan<byte> row, QuantizedRowSettings settings)
    {
        if (!settings.HasCorrection) return null;
        if (!double.IsFinite(Correction(row, settings))) return $"row {r}: correction {Correction(row, settings)}";
        if (settings.HasTiers && row[^1] > 1) return $"row {r}: tier {row[^1]} (0 or 1)";
        return null;
    }

    /// <summary>Bytes after a sparse or every-code row's codes: none (compact-2), D (compact-3), D and the tier (compact-4).</summary>
    public static int TrailerBytes(QuantizedRowSettings settings) => settings.HasTiers ? 9 : settings.HasSecondKnee ? 8 : 0;

    /// <summary>The mapping that coded <paramref name="row"/>: the fine tier when a compact-4 row says so, else <paramref name="settings"/> itself.</summary>
    public static QuantizedRowSettings SettingsOf(ReadOnlySpan<byte> row, QuantizedRowSettings settings)
    {
        if (!settings.HasTiers || row.Length <= RowHeaderBytes) return settings;
        int count = BinaryPrimitives.ReadInt32LittleEndian(row[28..]);
        return count is Dense or NotFinite ? settings : settings.Tier(row[^1]);
    }

    /// <summary>
    /// What to add to the KLD computed from the decoded row (compact-3/4: −D, the row's stored D; compact-2 and float16 rows: 0).
    /// </summary>
    public static double Correction(ReadOnlySpan<byte> row, QuantizedRowSettings settings)
    {
        int trailer = TrailerBytes(settings);
        if (trailer == 0 || row.Length < RowHeaderBytes + trailer) return 0;
        int count = BinaryPrimitives.ReadInt32LittleEndian(row[28..]);
        return count is Dense or NotFinite ? 0 : -BinaryPrimitives.ReadDoubleLittleEndian(row[^trailer..]);
    }

    /// <summary>
    /// Decodes a sparse row: ids (ascending) and log P̂ of each kept token, scaled so the kept tokens hold exactly
    /// 1 − tail mass (P̂ and the tail then form a distribution). Returns the count.
    /// </summary>
    public static int DecodeSparse(ReadOnlySpan<byte> row, QuantizedRowSettings settings, Span<int> ids, Span<double> logP) =>
        DecodeSparse(row, settings, ids, logP, out _);

    /// <param name="shift">What the rescaling added to every stored value (logP − shift is the value the code stands for).</param>
    public static int DecodeSparse(ReadOnlySpan<byte> row, QuantizedRowSettings settings, Span<int> ids, Span<double> logP, out double shift)
    {
        var h = ReadHeader(row);
        int o = RowHeaderBytes, previous = -1;
        for (int k = 0; k < h.Count; k++)
        {
            previous += 1 + (int)Varint.Read(row, ref o);
            ids[k] = previous;
        }
        double sum = 0;
        var map = new QuantizedCodeMap(SettingsOf(row, settings));
        for (int k = 0; k < h.Count; k++)
        {
            double v = map.Value(Varint.UnZigZag(Varint.Read(row, ref o)));
            logP[k] = v;
            sum += Math.Exp(v);
        }
        shift = Math.Log(1 - h.TailMass) - Math.Log(sum);
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
            var map = new QuantizedCodeMap(SettingsOf(row, settings));
            for (int i = 0; i < vocab; i++)
            {
                logP[i] = map.Value(Varint.UnZigZag(Varint.Read(row, ref o)));
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
