using System.IO.Compression;
using ZstdSharp;

namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>
/// The codec byte in front of each stream of a split chunk with per-stream codecs (<see cref="QuantizedChunk.SplitCoded"/>):
/// 0 stored, 1 Brotli, 2 Zstandard. The code stream goes to Zstandard: on one chunk of the realistic 128k model
/// (qanatomy --cost 1) its level 1 made it as small as Brotli quality 4 in an eighth of the time, while the id gaps stay
/// with Brotli, which keeps them 8 % smaller than Zstandard does.
/// </summary>
internal static class StreamCodec
{
    public const byte Stored = 0, Brotli = 1, Zstandard = 2;

    /// <summary>Zstandard's level for the code stream.</summary>
    public const int ZstandardLevel = 1;

    /// <summary>A decoded stream may not claim more than this (a corrupt frame header must not allocate the machine away).</summary>
    private const ulong MaxDecodedBytes = 1UL << 30;

    /// <summary>Codec byte and compressed bytes; null when the codec failed or did not shrink the stream.</summary>
    public static byte[]? Encode(ReadOnlySpan<byte> raw, byte codec, int level)
    {
        byte[] output;
        int written;
        switch (codec)
        {
            case Brotli:
                output = new byte[BrotliEncoder.GetMaxCompressedLength(raw.Length) + 1];
                using (var brotli = new BrotliEncoder(level, QuantizedChunk.BrotliWindow))
                    if (brotli.Compress(raw, output.AsSpan(1), out _, out written, isFinalBlock: true) != System.Buffers.OperationStatus.Done) return null;
                break;
            case Zstandard:
                using (var zstd = new Compressor(level))
                {
                    // A frame checksum (4 bytes), so a damaged stream is refused on reading and not decoded into other codes.
                    zstd.SetParameter(ZstdSharp.Unsafe.ZSTD_cParameter.ZSTD_c_checksumFlag, 1);
                    output = new byte[Compressor.GetCompressBound(raw.Length) + 1];
                    if (!zstd.TryWrap(raw, output.AsSpan(1), out written)) return null;
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(codec), codec, "a stream is coded with Brotli or Zstandard");
        }
        if (written >= raw.Length) return null;
        output[0] = codec;
        return output[..(written + 1)];
    }

    /// <summary>The decoded stream (a buffer and the length used in it).</summary>
    public static (byte[] Bytes, int Length) Decode(byte codec, ReadOnlySpan<byte> payload)
    {
        switch (codec)
        {
            case Stored:
                return (payload.ToArray(), payload.Length);
            case Brotli:
                return QuantizedChunk.Decompress(payload);
            case Zstandard:
                try
                {
                    ulong size = Decompressor.GetDecompressedSize(payload);
                    if (size > MaxDecodedBytes) throw new InvalidDataException($"quantized chunk: a Zstandard stream claims {size} bytes");
                    var bytes = new byte[size];
                    using var zstd = new Decompressor();
                    int length = zstd.Unwrap(payload, bytes);
                    if ((ulong)length != size) throw new InvalidDataException("quantized chunk: a Zstandard stream is shorter than it claims");
                    return (bytes, length);
                }
                catch (ZstdException e)
                {
                    throw new InvalidDataException($"quantized chunk: Zstandard stream is corrupt ({e.Message})", e);
                }
            default:
                throw new InvalidDataException($"quantized chunk: unknown stream codec {codec}");
        }
    }
}
