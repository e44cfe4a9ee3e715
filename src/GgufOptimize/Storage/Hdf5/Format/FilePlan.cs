namespace GgufOptimize.Storage.Hdf5.Format;

/// <summary>
/// Where everything of a file goes: all metadata (superblock v2, one v2 object header per object, one global heap
/// for strings) packed at the start, then each dataset's contiguous bytes at an aligned offset.
/// </summary>
internal sealed class FilePlan
{
    private const int SuperblockSize = 48;

    private FilePlan(byte[] metadata, IReadOnlyList<(Hdf5DatasetSpec Spec, long Offset)> datasets, long totalLength)
    {
        Metadata = metadata;
        Datasets = datasets;
        TotalLength = totalLength;
    }

    /// <summary>Bytes 0..Metadata.Length of the file.</summary>
    public byte[] Metadata { get; }
    public IReadOnlyList<(Hdf5DatasetSpec Spec, long Offset)> Datasets { get; }
    public long TotalLength { get; }

    public static FilePlan Create(Hdf5FileSpec spec, int alignment)
    {
        if (alignment < 8 || (alignment & (alignment - 1)) != 0)
            throw new ArgumentException($"data alignment must be a power of two ≥ 8, got {alignment}");
        var objects = new List<Hdf5ObjectSpec>();
        Collect(spec.Root, objects);

        var addresses = new Dictionary<Hdf5ObjectSpec, long>(ReferenceEqualityComparer.Instance);
        var dataOffsets = new Dictionary<Hdf5ObjectSpec, long>(ReferenceEqualityComparer.Instance);

        // Header sizes do not depend on address values, so a first pass with placeholder addresses sizes them.
        var sizingHeap = new StringHeap();
        var sizes = objects.Select(o => EncodeHeader(o, addresses, dataOffsets, sizingHeap).Length).ToList();

        long cursor = SuperblockSize;
        for (int i = 0; i < objects.Count; i++)
        {
            addresses[objects[i]] = cursor;
            cursor += sizes[i];
        }
        long heapAddress = AlignUp(cursor, 8);
        if (sizingHeap.Count > 0) cursor = heapAddress + sizingHeap.Size;
        long metadataEnd = cursor;

        long dataCursor = AlignUp(metadataEnd, alignment);
        var placed = new List<(Hdf5DatasetSpec, long)>();
        foreach (var dataset in objects.OfType<Hdf5DatasetSpec>())
        {
            long offset = AlignUp(dataCursor, alignment);
            dataOffsets[dataset] = offset;
            placed.Add((dataset, offset));
            dataCursor = offset + dataset.ByteLength;
        }
        long totalLength = Math.Max(metadataEnd, placed.Count > 0 ? dataCursor : metadataEnd);

        var heap = new StringHeap { Address = heapAddress };
        var metadata = new byte[metadataEnd];
        EncodeSuperblock(addresses[spec.Root], totalLength).CopyTo(metadata, 0);
        for (int i = 0; i < objects.Count; i++)
        {
            var header = EncodeHeader(objects[i], addresses, dataOffsets, heap);
            if (header.Length != sizes[i]) throw new InvalidOperationException("object header size changed between passes");
            header.CopyTo(metadata, addresses[objects[i]]);
        }
        if (heap.Count > 0) heap.Encode().CopyTo(metadata, heapAddress);
        return new FilePlan(metadata, placed, totalLength);
    }

    private static void Collect(Hdf5ObjectSpec obj, List<Hdf5ObjectSpec> into)
    {
        into.Add(obj);
        if (obj is Hdf5GroupSpec group)
            foreach (var child in group.Children) Collect(child, into);
    }

    private static byte[] EncodeHeader(Hdf5ObjectSpec obj, Dictionary<Hdf5ObjectSpec, long> addresses,
        Dictionary<Hdf5ObjectSpec, long> dataOffsets, StringHeap heap)
    {
        var header = new ObjectHeaderEncoder();
        switch (obj)
        {
            case Hdf5GroupSpec group:
                if (group.Children.Count > ushort.MaxValue)
                    throw new ArgumentException($"group {group.Path} has more than 65535 members");
                header.Add(MessageType.LinkInfo, MessageEncoder.LinkInfo);
                header.Add(MessageType.GroupInfo, b => MessageEncoder.GroupInfo(b, group.Children.Count));
                foreach (var child in group.Children)
                    header.Add(MessageType.Link, b => MessageEncoder.HardLink(b, child.Name, addresses.GetValueOrDefault(child)));
                break;
            case Hdf5DatasetSpec dataset:
                header.Add(MessageType.Dataspace, b => MessageEncoder.Dataspace(b, dataset.Shape));
                header.Add(MessageType.Datatype, b => DatatypeEncoder.Element(b, dataset.Type), constant: true);
                header.Add(MessageType.FillValue, MessageEncoder.FillValue, constant: true);
                header.Add(MessageType.Layout, b => MessageEncoder.ContiguousLayout(b, dataOffsets.GetValueOrDefault(dataset), dataset.ByteLength));
                break;
        }
        foreach (var (name, value) in obj.Attributes)
        {
            try
            {
                header.Add(MessageType.Attribute, b => MessageEncoder.Attribute(b, name, value, heap));
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"attribute {name} of {obj.Path}: {e.Message}", e);
            }
        }
        return header.Encode();
    }

    private static byte[] EncodeSuperblock(long rootAddress, long endOfFile)
    {
        var buf = new LittleEndianBuffer();
        buf.Bytes(H5Constants.Signature);
        buf.U8(2);                              // superblock version
        buf.U8(H5Constants.OffsetSize);
        buf.U8(H5Constants.LengthSize);
        buf.U8(0);                              // file consistency flags
        buf.Address(0);                         // base address
        buf.U64(H5Constants.UndefinedAddress);  // no superblock extension
        buf.Address(endOfFile);
        buf.Address(rootAddress);
        buf.U32(Lookup3.Hash(buf.Written));
        return buf.Written.ToArray();
    }

    private static long AlignUp(long value, long alignment) => (value + alignment - 1) / alignment * alignment;
}
