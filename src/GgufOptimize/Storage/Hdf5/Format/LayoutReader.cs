using GgufOptimize.Common;

namespace GgufOptimize.Storage.Hdf5.Format;

/// <summary>
/// Walks an HDF5 file from the root group and records every group, its attributes, and every dataset's
/// contiguous storage. Anything we cannot read at a known offset (chunked, compressed, compact, external,
/// dense link/attribute storage) is a BadInput error naming the file and the object.
/// </summary>
internal sealed class LayoutReader
{
    private const int MaxDepth = 256;

    private readonly MetadataSource _src;
    private readonly GlobalHeapReader _heap;
    private readonly List<Hdf5GroupInfo> _groups = [];
    private readonly List<Hdf5DatasetInfo> _datasets = [];
    private readonly HashSet<long> _visitedGroups = [];
    private readonly HashSet<string> _paths = [];

    private LayoutReader(MetadataSource src)
    {
        _src = src;
        _heap = new GlobalHeapReader(src);
    }

    public static Hdf5Layout Read(string path)
    {
        string fullPath = System.IO.Path.GetFullPath(path);
        Microsoft.Win32.SafeHandles.SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(fullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException) { throw GgufOptimizeException.BadInput($"HDF5 file '{path}' does not exist"); }
        catch (DirectoryNotFoundException) { throw GgufOptimizeException.BadInput($"HDF5 file '{path}' does not exist"); }
        catch (UnauthorizedAccessException) { throw GgufOptimizeException.BadInput($"HDF5 file '{path}' cannot be opened (permission denied)"); }
        using (handle)
        {
            var src = new MetadataSource(handle, fullPath, RandomAccess.GetLength(handle));
            var reader = new LayoutReader(src);
            try
            {
                long root = SuperblockReader.ReadRoot(src);
                reader.Visit("/", root, depth: 0);
            }
            catch (Exception e) when (e is OverflowException or IndexOutOfRangeException or ArgumentException or InvalidCastException)
            {
                // Parsers check what they read; this only keeps an unforeseen damage pattern a BadInput error.
                throw src.Corrupt($"unreadable metadata ({e.Message})");
            }
            return new Hdf5Layout(fullPath, src.FileLength, reader._groups, reader._datasets);
        }
    }

    private void Visit(string path, long position, int depth)
    {
        if (depth > MaxDepth) throw _src.Corrupt($"groups are nested more than {MaxDepth} deep at {path}");
        if (!_paths.Add(path)) throw _src.Corrupt($"two members share the path {path}");
        var messages = ObjectHeaderReader.Read(_src, position, path);
        bool isDataset = messages.Any(m => m.Type == MessageType.Layout);
        bool isGroup = path == "/" || messages.Any(m => m.Type is MessageType.LinkInfo or MessageType.Link or MessageType.SymbolTable);
        if (!isDataset && !isGroup) return; // e.g. a committed datatype

        var attributes = ReadAttributes(messages, path);
        if (isDataset)
        {
            _datasets.Add(ReadDataset(messages, path, attributes));
            return;
        }
        if (!_visitedGroups.Add(position)) return; // the same group linked twice: list it once
        var members = GroupMemberReader.Read(_src, messages, path);
        _groups.Add(new Hdf5GroupInfo(_src.FilePath, path, attributes, members.Select(m => m.Name).ToArray()));
        foreach (var (name, child) in members)
            Visit(Hdf5Names.Join(path, name), child, depth + 1);
    }

    private Dictionary<string, object> ReadAttributes(List<HeaderMessage> messages, string path)
    {
        var attributes = new Dictionary<string, object>();
        foreach (var m in messages)
        {
            if (m.Type == MessageType.AttributeInfo)
            {
                var c = _src.Cursor(m.Body, $"attribute info of {path}");
                c.Skip(1);
                if ((c.U8() & 0x01) != 0) c.Skip(2);
                if (c.Offset() != H5Constants.UndefinedAddress)
                    throw _src.Unsupported($"{path} keeps its attributes in dense storage (fractal heap), which is not supported");
            }
            else if (m.Type == MessageType.Attribute)
            {
                var (name, value) = AttributeDecoder.Decode(m, path, _src, _heap);
                attributes[name] = value;
            }
        }
        return attributes;
    }

    private Hdf5DatasetInfo ReadDataset(List<HeaderMessage> messages, string path, Dictionary<string, object> attributes)
    {
        string what = $"dataset {path}";
        if (messages.Any(m => m.Type == MessageType.FilterPipeline))
            throw _src.Unsupported($"{what} is compressed/filtered; only contiguous uncompressed datasets are supported");
        if (messages.Any(m => m.Type == MessageType.ExternalFiles))
            throw _src.Unsupported($"{what} stores its data in external files, which is not supported");

        var typeMessage = Single(messages, MessageType.Datatype, what);
        if (typeMessage.IsShared) throw _src.Unsupported($"{what} uses a committed (shared) datatype, which is not supported");
        var type = DatatypeDecoder.Decode(_src.Cursor(typeMessage.Body, $"datatype of {what}"));
        var elementType = type.ElementType()
            ?? throw _src.Unsupported($"{what} has datatype {type.Describe()}, which is not supported");

        var spaceMessage = Single(messages, MessageType.Dataspace, what);
        var shape = DataspaceDecoder.Decode(_src.Cursor(spaceMessage.Body, $"dataspace of {what}"), what)
            ?? throw _src.Unsupported($"{what} has a null dataspace (no elements), which is not supported");
        long count = 1;
        foreach (long d in shape)
        {
            if (d != 0 && count > long.MaxValue / d / elementType.Size()) throw _src.Corrupt($"{what} has an impossible shape");
            count *= d;
        }
        long expectedSize = count * elementType.Size();

        var (address, size) = ReadLayout(Single(messages, MessageType.Layout, what).Body, what, expectedSize);
        if (size != expectedSize)
            throw _src.Corrupt($"{what} stores {size} bytes but its shape and type need {expectedSize}");
        long offset;
        if (address == H5Constants.UndefinedAddress)
        {
            if (size != 0) throw _src.Unsupported($"{what} has no storage allocated yet (never written)");
            offset = 0;
        }
        else
        {
            if (address > (ulong)(long.MaxValue - _src.BaseAddress) || (long)address + _src.BaseAddress > _src.FileLength - size)
                throw _src.Corrupt($"{what} ({size} bytes at offset {address}) extends past the end of the file ({_src.FileLength} bytes)");
            offset = (long)address + _src.BaseAddress;
        }
        return new Hdf5DatasetInfo(_src.FilePath, path, attributes, elementType, shape, offset);
    }

    private (ulong Address, long Size) ReadLayout(byte[] body, string what, long expectedSize)
    {
        var c = _src.Cursor(body, $"data layout of {what}");
        int version = c.U8();
        int layoutClass;
        ulong address;
        long size;
        switch (version)
        {
            case 1 or 2:
                c.Skip(1); // dimensionality
                layoutClass = c.U8();
                c.Skip(5);
                if (layoutClass != 1) break;
                address = c.Offset();
                // Old layouts do not store the byte size of contiguous data; it follows from shape and type.
                return (address, expectedSize);
            case 3 or 4:
                layoutClass = c.U8();
                if (layoutClass != 1) break;
                address = c.Offset();
                ulong length = c.Length();
                if (length > long.MaxValue) throw _src.Corrupt($"{what} has an impossible storage size");
                size = (long)length;
                return (address, size);
            default:
                throw _src.Corrupt($"{what} has unknown data layout version {version}");
        }
        string kind = layoutClass switch { 0 => "compact", 2 => "chunked", 3 => "virtual", _ => $"layout class {layoutClass}" };
        throw _src.Unsupported($"{what} is {kind}; only contiguous datasets are supported");
    }

    private HeaderMessage Single(List<HeaderMessage> messages, int type, string what) =>
        messages.FirstOrDefault(m => m.Type == type) ?? throw _src.Corrupt($"{what} has no message of type {type}");
}
