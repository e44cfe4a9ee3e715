using System.Text;

namespace GgufOptimize.Storage.Hdf5.Format;

/// <summary>
/// The single global heap collection holding every string attribute value of a file we write.
/// Object indices are assigned in the order strings are added, so encoding twice (size pass, final pass) is stable.
/// </summary>
internal sealed class StringHeap
{
    private const int ObjectHeaderSize = 8 + H5Constants.LengthSize;
    private readonly List<byte[]> _objects = [];

    public long Address { get; set; }

    public int Count => _objects.Count;

    /// <summary>Adds one string and appends its heap reference (length, collection address, index) to <paramref name="buf"/>.</summary>
    public void AddReference(LittleEndianBuffer buf, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        if (_objects.Count == ushort.MaxValue)
            throw new ArgumentException("more than 65535 string attribute values in one file");
        _objects.Add(bytes);
        buf.U32((uint)bytes.Length);
        buf.Address(Address);
        buf.U32((uint)_objects.Count);
    }

    public long Size
    {
        get
        {
            long used = 16 + _objects.Sum(o => ObjectHeaderSize + Align8(o.Length));
            // Room for the trailing free-space object keeps the collection well formed.
            return Math.Max(H5Constants.GlobalHeapMinSize, used + ObjectHeaderSize);
        }
    }

    public byte[] Encode()
    {
        var buf = new LittleEndianBuffer();
        long size = Size;
        buf.Bytes("GCOL"u8);
        buf.U8(1);
        buf.Zeros(3);
        buf.U64((ulong)size);
        for (int i = 0; i < _objects.Count; i++)
        {
            buf.U16(i + 1);
            buf.U16(0);      // reference count (unused for attribute data)
            buf.U32(0);
            buf.U64((ulong)_objects[i].Length);
            buf.Bytes(_objects[i]);
            buf.PadTo(8);
        }
        // Object 0 describes the free space; its size includes its own header.
        buf.U16(0);
        buf.U16(0);
        buf.U32(0);
        buf.U64((ulong)(size - buf.Length + 8));
        buf.Zeros(checked((int)(size - buf.Length)));
        return buf.Written.ToArray();
    }

    private static long Align8(long n) => (n + 7) & ~7L;
}
