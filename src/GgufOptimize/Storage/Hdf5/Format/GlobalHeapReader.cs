namespace GgufOptimize.Storage.Hdf5.Format;

/// <summary>Reads objects (variable-length string bytes) from global heap collections, caching each collection.</summary>
internal sealed class GlobalHeapReader(MetadataSource src)
{
    private readonly Dictionary<long, (byte[] Data, Dictionary<int, (int Start, int Length)> Objects)> _collections = [];

    public ReadOnlySpan<byte> Object(ulong collectionAddress, uint index, string what)
    {
        long position = src.Position(collectionAddress, what);
        if (!_collections.TryGetValue(position, out var collection))
        {
            collection = Load(position, what);
            _collections[position] = collection;
        }
        if (index > ushort.MaxValue || !collection.Objects.TryGetValue((int)index, out var found))
            throw src.Corrupt($"{what}: global heap at offset {position} has no object {index}");
        return collection.Data.AsSpan(found.Start, found.Length);
    }

    private (byte[], Dictionary<int, (int, int)>) Load(long position, string what)
    {
        string heapWhat = $"global heap collection at offset {position}";
        var head = src.Cursor(position, 8 + src.LengthSize, heapWhat);
        if (!head.Matches("GCOL"u8)) throw src.Corrupt($"{heapWhat} (referenced by {what}) has no GCOL signature");
        head.Skip(4);
        long size = (long)head.Length();
        var data = src.Read(position, size, heapWhat);
        var c = src.Cursor(data, heapWhat);
        c.Skip(8 + src.LengthSize);
        var objects = new Dictionary<int, (int, int)>();
        int objectHeader = 8 + src.LengthSize;
        while (c.Remaining >= objectHeader)
        {
            int index = c.U16();
            c.Skip(6);
            ulong length = c.Length();
            if (index == 0) break; // free space runs to the end of the collection
            if (length > (ulong)c.Remaining) throw src.Corrupt($"{heapWhat}: object {index} runs past the collection end");
            objects[index] = (c.Position, (int)length);
            int padded = (int)((length + 7) & ~7UL);
            c.Skip(Math.Min(padded, c.Remaining));
        }
        return (data, objects);
    }
}
