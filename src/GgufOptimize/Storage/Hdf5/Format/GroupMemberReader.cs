using System.Text;

namespace GgufOptimize.Storage.Hdf5.Format;

/// <summary>
/// Lists the hard links of a group: link messages ("compact" new-style groups) or the symbol table
/// (B-tree v1 + local heap) of old-style groups. Soft and external links are not followed.
/// </summary>
internal static class GroupMemberReader
{
    private const int MaxBTreeDepth = 64;

    public static List<(string Name, long Position)> Read(MetadataSource src, List<HeaderMessage> messages, string groupPath)
    {
        var members = new List<(string, long)>();
        foreach (var m in messages)
        {
            switch (m.Type)
            {
                case MessageType.LinkInfo:
                    CheckCompact(src, m, groupPath);
                    break;
                case MessageType.Link:
                    var link = ReadLink(src, m, groupPath);
                    if (link is { } hard) members.Add(hard);
                    break;
                case MessageType.SymbolTable:
                    ReadSymbolTable(src, m, groupPath, members);
                    break;
            }
        }
        return members;
    }

    private static void CheckName(MetadataSource src, string name, string groupPath)
    {
        if (name.Length == 0 || name.Contains('/') || name == ".")
            throw src.Corrupt($"group {groupPath} has a member with the invalid name '{name}'");
    }

    private static void CheckCompact(MetadataSource src, HeaderMessage m, string groupPath)
    {
        var c = src.Cursor(m.Body, $"link info of {groupPath}");
        c.Skip(1);
        int flags = c.U8();
        if ((flags & 0x01) != 0) c.Skip(8);
        if (c.Offset() != H5Constants.UndefinedAddress)
            throw src.Unsupported($"group {groupPath} keeps its links in dense storage (fractal heap), which is not supported");
    }

    private static (string, long)? ReadLink(MetadataSource src, HeaderMessage m, string groupPath)
    {
        var c = src.Cursor(m.Body, $"link message in {groupPath}");
        int version = c.U8();
        if (version != 1) throw src.Corrupt($"link message in {groupPath} has unknown version {version}");
        int flags = c.U8();
        int linkType = (flags & 0x08) != 0 ? c.U8() : 0;
        if ((flags & 0x04) != 0) c.Skip(8);
        if ((flags & 0x10) != 0) c.Skip(1);
        int nameLength = checked((int)c.Sized(1 << (flags & 0x03)));
        string name = Encoding.UTF8.GetString(c.Bytes(nameLength));
        if (linkType != 0) return null;
        CheckName(src, name, groupPath);
        string path = Hdf5Names.Join(groupPath, name);
        return (name, src.Position(c.Offset(), $"object {path}"));
    }

    private static void ReadSymbolTable(MetadataSource src, HeaderMessage m, string groupPath, List<(string, long)> members)
    {
        var c = src.Cursor(m.Body, $"symbol table of {groupPath}");
        long btree = src.Position(c.Offset(), $"B-tree of group {groupPath}");
        long heap = src.Position(c.Offset(), $"local heap of group {groupPath}");
        var names = ReadLocalHeap(src, heap, groupPath);
        var visited = new HashSet<long>();
        ReadBTreeNode(src, btree, groupPath, names, members, visited, depth: 0);
    }

    private static byte[] ReadLocalHeap(MetadataSource src, long position, string groupPath)
    {
        string what = $"local heap of group {groupPath}";
        var c = src.Cursor(position, 8 + 2 * src.LengthSize + src.OffsetSize, what);
        if (!c.Matches("HEAP"u8)) throw src.Corrupt($"{what} at offset {position} has no HEAP signature");
        c.Skip(4);
        long size = (long)c.Length();
        c.Length(); // free list head
        long data = src.Position(c.Offset(), what);
        return src.Read(data, size, what);
    }

    private static void ReadBTreeNode(MetadataSource src, long position, string groupPath, byte[] names,
        List<(string, long)> members, HashSet<long> visited, int depth)
    {
        string what = $"B-tree node of group {groupPath}";
        if (depth > MaxBTreeDepth || !visited.Add(position)) throw src.Corrupt($"{what} at offset {position} forms a cycle");
        int headerSize = 8 + 2 * src.OffsetSize;
        var head = src.Cursor(position, headerSize, what);
        if (!head.Matches("TREE"u8)) throw src.Corrupt($"{what} at offset {position} has no TREE signature");
        int nodeType = head.U8();
        int level = head.U8();
        int entries = head.U16();
        if (nodeType != 0) throw src.Corrupt($"{what} at offset {position} is not a group node");
        var body = src.Cursor(position + headerSize, (long)entries * (src.LengthSize + src.OffsetSize) + src.LengthSize, what);
        for (int i = 0; i < entries; i++)
        {
            body.Length(); // key: heap offset of the largest name in the child
            long child = src.Position(body.Offset(), what + " child");
            if (level > 0) ReadBTreeNode(src, child, groupPath, names, members, visited, depth + 1);
            else ReadSymbolNode(src, child, groupPath, names, members);
        }
    }

    private static void ReadSymbolNode(MetadataSource src, long position, string groupPath, byte[] names, List<(string, long)> members)
    {
        string what = $"symbol node of group {groupPath}";
        var head = src.Cursor(position, 8, what);
        if (!head.Matches("SNOD"u8)) throw src.Corrupt($"{what} at offset {position} has no SNOD signature");
        head.Skip(2);
        int count = head.U16();
        int entrySize = 2 * src.OffsetSize + 24;
        var c = src.Cursor(position + 8, (long)count * entrySize, what);
        for (int i = 0; i < count; i++)
        {
            ulong nameOffset = c.Offset();
            ulong address = c.Offset();
            c.Skip(24); // cache type, reserved, scratch pad
            if (nameOffset >= (ulong)names.Length) throw src.Corrupt($"{what}: link name offset {nameOffset} is outside the local heap");
            var rest = names.AsSpan((int)nameOffset);
            int nul = rest.IndexOf((byte)0);
            string name = Encoding.UTF8.GetString(nul >= 0 ? rest[..nul] : rest);
            CheckName(src, name, groupPath);
            members.Add((name, src.Position(address, $"object {Hdf5Names.Join(groupPath, name)}")));
        }
    }
}
