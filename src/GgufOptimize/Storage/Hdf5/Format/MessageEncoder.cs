using System.Text;

namespace GgufOptimize.Storage.Hdf5.Format;

/// <summary>Bodies of the object header messages our files use.</summary>
internal static class MessageEncoder
{
    /// <summary>Dataspace version 2: scalar when <paramref name="dims"/> is empty, else simple with max = current.</summary>
    public static void Dataspace(LittleEndianBuffer buf, IReadOnlyList<long> dims)
    {
        buf.U8(2);
        buf.U8(dims.Count);
        buf.U8(0);
        buf.U8(dims.Count == 0 ? 0 : 1);
        foreach (long d in dims) buf.U64((ulong)d);
    }

    /// <summary>Fill value version 3: space allocated early, default (zero) fill value.</summary>
    public static void FillValue(LittleEndianBuffer buf)
    {
        const int allocEarly = 1, writeIfSet = 2;
        buf.U8(3);
        buf.U8(allocEarly | (writeIfSet << 2));
    }

    /// <summary>Data layout version 3, contiguous class.</summary>
    public static void ContiguousLayout(LittleEndianBuffer buf, long address, long size)
    {
        buf.U8(3);
        buf.U8(1);
        buf.Address(address);
        buf.U64((ulong)size);
    }

    /// <summary>Link info version 0 with no dense storage: the group's links are link messages in its header.</summary>
    public static void LinkInfo(LittleEndianBuffer buf)
    {
        buf.U8(0);
        buf.U8(0);
        buf.U64(H5Constants.UndefinedAddress);
        buf.U64(H5Constants.UndefinedAddress);
    }

    /// <summary>Group info version 0; declares a larger compact limit when the group has more than the default 8 links.</summary>
    public static void GroupInfo(LittleEndianBuffer buf, int linkCount)
    {
        buf.U8(0);
        if (linkCount <= 8)
        {
            buf.U8(0);
            return;
        }
        buf.U8(1);
        buf.U16(linkCount);
        buf.U16(6);
    }

    /// <summary>Link message version 1: hard link, UTF-8 name.</summary>
    public static void HardLink(LittleEndianBuffer buf, string name, long address)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        int sizeCode = nameBytes.Length <= byte.MaxValue ? 0 : nameBytes.Length <= ushort.MaxValue ? 1 : 2;
        const int charsetPresent = 0x10;
        buf.U8(1);
        buf.U8(sizeCode | charsetPresent);
        buf.U8(1); // UTF-8
        switch (sizeCode)
        {
            case 0: buf.U8(nameBytes.Length); break;
            case 1: buf.U16(nameBytes.Length); break;
            default: buf.U32((uint)nameBytes.Length); break;
        }
        buf.Bytes(nameBytes);
        buf.Address(address);
    }

    /// <summary>Attribute message version 3 (UTF-8 name, unpadded fields).</summary>
    public static void Attribute(LittleEndianBuffer buf, string name, object value, StringHeap heap)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var type = new LittleEndianBuffer();
        var space = new LittleEndianBuffer();
        var data = new LittleEndianBuffer();
        switch (value)
        {
            case string s:
                DatatypeEncoder.VlenUtf8String(type);
                Dataspace(space, []);
                heap.AddReference(data, s);
                break;
            case long l:
                DatatypeEncoder.FixedPoint(type, 8, signed: true);
                Dataspace(space, []);
                data.U64((ulong)l);
                break;
            case double d:
                DatatypeEncoder.FloatingPoint(type, 8);
                Dataspace(space, []);
                data.U64((ulong)BitConverter.DoubleToInt64Bits(d));
                break;
            case bool b:
                DatatypeEncoder.BoolEnum(type);
                Dataspace(space, []);
                data.U8(b ? 1 : 0);
                break;
            case long[] la:
                DatatypeEncoder.FixedPoint(type, 8, signed: true);
                Dataspace(space, [la.Length]);
                foreach (long l in la) data.U64((ulong)l);
                break;
            case double[] da:
                DatatypeEncoder.FloatingPoint(type, 8);
                Dataspace(space, [da.Length]);
                foreach (double d in da) data.U64((ulong)BitConverter.DoubleToInt64Bits(d));
                break;
            case string[] sa:
                DatatypeEncoder.VlenUtf8String(type);
                Dataspace(space, [sa.Length]);
                foreach (var s in sa) heap.AddReference(data, s);
                break;
            default:
                throw new ArgumentException($"unsupported attribute value type {value.GetType().Name}");
        }
        buf.U8(3);
        buf.U8(0);
        buf.U16(nameBytes.Length + 1);
        buf.U16(type.Length);
        buf.U16(space.Length);
        buf.U8(1); // name is UTF-8
        buf.Bytes(nameBytes);
        buf.U8(0);
        buf.Bytes(type.Written);
        buf.Bytes(space.Written);
        buf.Bytes(data.Written);
    }
}
