using System.Buffers.Binary;

namespace GgufOptimize.Storage.Hdf5.Format;

/// <summary>A growable byte buffer with little-endian appends, used to encode metadata.</summary>
internal sealed class LittleEndianBuffer
{
    private byte[] _data = new byte[256];

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Written => _data.AsSpan(0, Length);

    public void U8(int value) => Grow(1)[0] = checked((byte)value);
    public void U16(int value) => BinaryPrimitives.WriteUInt16LittleEndian(Grow(2), checked((ushort)value));
    public void U32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Grow(4), value);
    public void U64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Grow(8), value);
    public void Address(long address) => U64(checked((ulong)address));
    public void Bytes(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Grow(bytes.Length));
    public void Zeros(int count) => Grow(count).Clear();

    /// <summary>Appends zeros up to the next multiple of <paramref name="alignment"/>.</summary>
    public void PadTo(int alignment) => Zeros((alignment - Length % alignment) % alignment);

    private Span<byte> Grow(int count)
    {
        if (Length + count > _data.Length)
            Array.Resize(ref _data, Math.Max(_data.Length * 2, Length + count));
        var span = _data.AsSpan(Length, count);
        Length += count;
        return span;
    }
}
