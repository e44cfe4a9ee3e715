using System.Buffers.Binary;

namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>
/// One encoded chunk of a quantized compact baseline with the τ and κ its encoder measured: what the working log holds
/// per chunk (float64 τ, float64 κ, then the blob) and what the final file stores per chunk.
/// </summary>
internal sealed record QuantizedChunkRecord(double TotalVariation, double DecodedDivergence, byte[] Blob)
{
    public byte[] ToBytes()
    {
        var bytes = new byte[16 + Blob.Length];
        BinaryPrimitives.WriteDoubleLittleEndian(bytes, TotalVariation);
        BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(8), DecodedDivergence);
        Blob.CopyTo(bytes, 16);
        return bytes;
    }

    public static QuantizedChunkRecord FromBytes(byte[] bytes)
    {
        if (bytes.Length < 16) throw new InvalidDataException("quantized chunk record shorter than its header");
        return new QuantizedChunkRecord(BinaryPrimitives.ReadDoubleLittleEndian(bytes), BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(8)), bytes[16..]);
    }
}
