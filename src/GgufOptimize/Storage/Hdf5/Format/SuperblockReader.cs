namespace GgufOptimize.Storage.Hdf5.Format;

/// <summary>Finds and parses the superblock (versions 0-3); returns the root group's object header position.</summary>
internal static class SuperblockReader
{
    public static long ReadRoot(MetadataSource src)
    {
        long position = FindSignature(src);
        var c = src.Cursor(position, Math.Min(src.FileLength - position, 128), "superblock");
        c.Skip(8);
        int version = c.U8();
        ulong eof, root;
        switch (version)
        {
            case 0 or 1:
            {
                c.Skip(4); // free-space, root symbol table entry, reserved, shared header versions
                SetSizes(src, c.U8(), c.U8());
                c.Skip(1 + 2 + 2 + 4); // reserved, group leaf/internal K, consistency flags
                if (version == 1) c.Skip(4);
                SetBase(src, c.Offset());
                c.Offset(); // free-space info
                eof = c.Offset();
                c.Offset(); // driver information block
                c.Offset(); // root entry: link name offset
                root = c.Offset();
                break;
            }
            case 2 or 3:
            {
                SetSizes(src, c.U8(), c.U8());
                c.Skip(1); // consistency flags
                SetBase(src, c.Offset());
                c.Offset(); // superblock extension
                eof = c.Offset();
                root = c.Offset();
                uint stored = c.U32();
                uint actual = Lookup3.Hash(c.Consumed(0)[..^4]);
                if (stored != actual) throw src.Corrupt("superblock fails its checksum");
                break;
            }
            default:
                throw src.Unsupported($"superblock version {version} is not supported");
        }
        if (eof != H5Constants.UndefinedAddress && eof > (ulong)(src.FileLength - src.BaseAddress))
            throw src.Corrupt($"the superblock records {eof} bytes but the file has only {src.FileLength} (truncated?)");
        return src.Position(root, "root group");
    }

    private static long FindSignature(MetadataSource src)
    {
        // The superblock sits at 0 or, after a user block, at 512, 1024, 2048, ...
        for (long position = 0; position + 8 <= src.FileLength; position = position == 0 ? 512 : position * 2)
        {
            if (src.Read(position, 8, "superblock signature").AsSpan().SequenceEqual(H5Constants.Signature))
                return position;
        }
        throw src.Unsupported("not an HDF5 file (no HDF5 signature found)");
    }

    private static void SetBase(MetadataSource src, ulong baseAddress)
    {
        if (baseAddress >= (ulong)src.FileLength) throw src.Corrupt($"superblock declares base address {baseAddress} beyond the end of the file");
        src.BaseAddress = (long)baseAddress;
    }

    private static void SetSizes(MetadataSource src, int offsetSize, int lengthSize)
    {
        if (offsetSize is not (2 or 4 or 8) || lengthSize is not (2 or 4 or 8))
            throw src.Corrupt($"superblock declares address size {offsetSize} and length size {lengthSize}");
        src.OffsetSize = offsetSize;
        src.LengthSize = lengthSize;
    }
}
