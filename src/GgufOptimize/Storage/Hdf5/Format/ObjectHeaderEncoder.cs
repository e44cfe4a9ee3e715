namespace GgufOptimize.Storage.Hdf5.Format;

/// <summary>Collects messages and encodes one version-2 object header ("OHDR", single chunk, lookup3 checksum).</summary>
internal sealed class ObjectHeaderEncoder
{
    private const int ConstantFlag = 0x01;
    private const int AttributePhaseChangeFlag = 0x10;
    private const int DefaultMaxCompactAttributes = 8;
    private const int DefaultMinDenseAttributes = 6;

    private readonly List<(int Type, int Flags, byte[] Body)> _messages = [];

    public void Add(int type, Action<LittleEndianBuffer> encodeBody, bool constant = false)
    {
        var body = new LittleEndianBuffer();
        encodeBody(body);
        if (body.Length > ushort.MaxValue)
            throw new ArgumentException($"an HDF5 header message is limited to 65535 bytes (this one needs {body.Length}); store large values in a dataset");
        _messages.Add((type, constant ? ConstantFlag : 0, body.Written.ToArray()));
    }

    public byte[] Encode()
    {
        long chunkSize = _messages.Sum(m => 4L + m.Body.Length);
        int attributeCount = _messages.Count(m => m.Type == MessageType.Attribute);
        int sizeCode = chunkSize <= byte.MaxValue ? 0 : chunkSize <= ushort.MaxValue ? 1 : 2;
        // More compact attributes than the default limit of 8 are legal, but the header must then say so.
        bool phaseChange = attributeCount > DefaultMaxCompactAttributes;

        var buf = new LittleEndianBuffer();
        buf.Bytes("OHDR"u8);
        buf.U8(2);
        buf.U8(sizeCode | (phaseChange ? AttributePhaseChangeFlag : 0));
        if (phaseChange)
        {
            buf.U16(attributeCount);
            buf.U16(DefaultMinDenseAttributes);
        }
        switch (sizeCode)
        {
            case 0: buf.U8((int)chunkSize); break;
            case 1: buf.U16((int)chunkSize); break;
            default: buf.U32(checked((uint)chunkSize)); break;
        }
        foreach (var (type, flags, body) in _messages)
        {
            buf.U8(type);
            buf.U16(body.Length);
            buf.U8(flags);
            buf.Bytes(body);
        }
        buf.U32(Lookup3.Hash(buf.Written));
        return buf.Written.ToArray();
    }
}
