namespace GgufOptimize.Storage.Hdf5.Format;

internal sealed record HeaderMessage(int Type, int Flags, byte[] Body)
{
    public bool IsShared => (Flags & 0x02) != 0;
}

/// <summary>Reads all messages of a version-1 or version-2 object header, following continuation blocks.</summary>
internal static class ObjectHeaderReader
{
    private const int MaxContinuations = 10_000;

    public static List<HeaderMessage> Read(MetadataSource src, long position, string objectPath)
    {
        string what = $"object header of {objectPath}";
        var probe = src.ReadAtMost(position, 4, what);
        var messages = new List<HeaderMessage>();
        var pending = new Queue<(long Position, long Length)>();
        bool v2;
        bool creationOrder = false;
        if (probe.AsSpan().SequenceEqual("OHDR"u8))
        {
            v2 = true;
            creationOrder = ReadV2(src, position, what, messages, pending);
        }
        else if (probe.Length > 0 && probe[0] == 1)
        {
            v2 = false;
            var prefix = src.Cursor(position, 16, what);
            prefix.Skip(2);     // version, reserved
            prefix.Skip(2);     // number of messages
            prefix.Skip(4);     // reference count
            uint size = prefix.U32();
            ParseMessages(src.Cursor(position + 16, size, what), v2: false, messages, pending);
        }
        else
        {
            throw src.Corrupt($"no object header for {objectPath} at offset {position}");
        }

        int continuations = 0;
        while (pending.Count > 0)
        {
            if (++continuations > MaxContinuations) throw src.Corrupt($"{what} has too many continuation blocks");
            var (blockPosition, length) = pending.Dequeue();
            string blockWhat = $"continuation block of {objectPath}";
            if (!v2)
            {
                ParseMessages(src.Cursor(blockPosition, length, blockWhat), v2: false, messages, pending);
                continue;
            }
            var block = src.Read(blockPosition, length, blockWhat);
            if (length < 8 || !block.AsSpan(0, 4).SequenceEqual("OCHK"u8))
                throw src.Corrupt($"{blockWhat} at offset {blockPosition} has no OCHK signature");
            VerifyChecksum(src, block, blockWhat, blockPosition);
            var cursor = src.Cursor(block[..^4], blockWhat);
            cursor.Skip(4);
            ParseMessages(cursor, v2: true, messages, pending, creationOrder);
        }
        return messages;
    }

    /// <summary>Parses the first chunk of a v2 header; returns whether messages carry a creation-order field.</summary>
    private static bool ReadV2(MetadataSource src, long position, string what, List<HeaderMessage> messages,
        Queue<(long, long)> pending)
    {
        var head = src.Cursor(position, Math.Min(6, src.FileLength - position), what);
        head.Skip(4);
        int version = head.U8();
        if (version != 2) throw src.Corrupt($"{what} has unknown version {version}");
        int flags = head.U8();
        int prefixLength = 6 + ((flags & 0x20) != 0 ? 16 : 0) + ((flags & 0x10) != 0 ? 4 : 0);
        int sizeWidth = 1 << (flags & 0x03);
        var sizeCursor = src.Cursor(position + prefixLength, sizeWidth, what);
        ulong chunkSize = sizeCursor.Sized(sizeWidth);
        long total = prefixLength + sizeWidth + (long)Math.Min(chunkSize, (ulong)src.FileLength) + 4;
        var whole = src.Read(position, total, what);
        VerifyChecksum(src, whole, what, position);
        var cursor = src.Cursor(whole[..^4], what);
        cursor.Skip(prefixLength + sizeWidth);
        bool creationOrder = (flags & 0x04) != 0;
        ParseMessages(cursor, v2: true, messages, pending, creationOrder);
        return creationOrder;
    }

    private static void ParseMessages(ByteCursor cursor, bool v2, List<HeaderMessage> messages,
        Queue<(long, long)> pending, bool creationOrder = false)
    {
        int headerSize = v2 ? 4 + (creationOrder ? 2 : 0) : 8;
        // A v2 chunk may end in a gap shorter than a message header.
        while (cursor.Remaining >= headerSize)
        {
            int type, size, flags;
            if (v2)
            {
                type = cursor.U8();
                size = cursor.U16();
                flags = cursor.U8();
                if (creationOrder) cursor.Skip(2);
            }
            else
            {
                type = cursor.U16();
                size = cursor.U16();
                flags = cursor.U8();
                cursor.Skip(3);
            }
            var body = cursor.Bytes(size).ToArray();
            if (type == MessageType.Continuation)
            {
                var c = cursor.Source.Cursor(body, $"continuation message in {cursor.What}");
                long blockPosition = cursor.Source.Position(c.Offset(), "object header continuation block");
                pending.Enqueue((blockPosition, (long)c.Length()));
            }
            else if (type != MessageType.Nil)
            {
                messages.Add(new HeaderMessage(type, flags, body));
            }
        }
    }

    private static void VerifyChecksum(MetadataSource src, byte[] block, string what, long position)
    {
        uint stored = BitConverter.ToUInt32(block, block.Length - 4);
        uint actual = Lookup3.Hash(block.AsSpan(0, block.Length - 4));
        if (stored != actual) throw src.Corrupt($"{what} at offset {position} fails its checksum");
    }
}
