namespace GgufOptimize.Storage.Hdf5.Format;

internal static class DataspaceDecoder
{
    /// <summary>Current dimensions (empty for a scalar), or null for a null dataspace.</summary>
    public static long[]? Decode(ByteCursor c, string what)
    {
        int version = c.U8();
        int rank = c.U8();
        c.Skip(1); // flags: maximum dimensions, if present, follow and are not needed
        int type = 1;
        switch (version)
        {
            case 1:
                c.Skip(5);
                if (rank == 0) type = 0;
                break;
            case 2:
                type = c.U8();
                break;
            default:
                throw c.Source.Corrupt($"{what} has unknown dataspace version {version}");
        }
        if (type == 2) return null;
        if (rank > 32) throw c.Source.Corrupt($"{what} has {rank} dimensions");
        var dims = new long[type == 0 ? 0 : rank];
        for (int i = 0; i < dims.Length; i++)
        {
            ulong d = c.Length();
            if (d > long.MaxValue) throw c.Source.Corrupt($"{what} has an impossible dimension size {d}");
            dims[i] = (long)d;
        }
        return dims;
    }
}
