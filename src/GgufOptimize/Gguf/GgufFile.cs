using System.Runtime.InteropServices;
using GgufOptimize.Common;
using Microsoft.Win32.SafeHandles;

namespace GgufOptimize.Gguf;

/// <summary>
/// The parsed header of a GGUF file: metadata, tensor infos and where tensor data starts. Holds no open
/// file: tensor data is read on request, one tensor at a time.
/// </summary>
internal sealed class GgufFile
{
    private readonly Dictionary<string, GgufTensorInfo> _byName;
    /// <summary>For a split model: the shards, and which one holds each tensor (null for a single file).</summary>
    private IReadOnlyList<GgufFile>? _shards;
    private Dictionary<string, GgufFile>? _shardOf;

    public string Path { get; }
    public int Version { get; }
    public long Alignment { get; }
    public GgufMetadata Metadata { get; }
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }
    /// <summary>Absolute file offset of the data section (tensor offsets are relative to it).</summary>
    public long DataOffset { get; }
    public long FileLength { get; }

    internal GgufFile(string path, int version, long alignment, GgufMetadata metadata, IReadOnlyList<GgufTensorInfo> tensors, long dataOffset, long fileLength)
    {
        Path = path;
        Version = version;
        Alignment = alignment;
        Metadata = metadata;
        Tensors = tensors;
        DataOffset = dataOffset;
        FileLength = fileLength;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>
    /// Reads the header of <paramref name="path"/>; bad files fail with a BadInput error naming the file. Any shard of a
    /// split model (name-0000K-of-0000N.gguf) gives the whole model: all shards' tensors, the first shard's metadata
    /// and <see cref="Path"/> (see <see cref="GgufSplits"/>).
    /// </summary>
    public static GgufFile Read(string path) => GgufSplits.Read(path, GgufReader.Read);

    /// <summary>The files the model is stored in: one, or the shards of a split model in order.</summary>
    public IReadOnlyList<GgufFile> Shards => _shards ?? [this];

    /// <summary>One model made of the shards of a split model (their order is the shards').</summary>
    internal static GgufFile Union(IReadOnlyList<GgufFile> shards)
    {
        var first = shards[0];
        var file = new GgufFile(first.Path, first.Version, first.Alignment, first.Metadata, shards.SelectMany(s => s.Tensors).ToList(),
            first.DataOffset, shards.Sum(s => s.FileLength))
        {
            _shards = shards,
            _shardOf = shards.SelectMany(s => s.Tensors.Select(t => (t.Name, s))).ToDictionary(x => x.Name, x => x.s, StringComparer.Ordinal),
        };
        return file;
    }

    /// <summary>The file holding <paramref name="tensor"/>'s bytes (a shard of a split model, or this file).</summary>
    private GgufFile Holder(GgufTensorInfo tensor) => _shardOf?.GetValueOrDefault(tensor.Name) ?? this;

    public string? Architecture => Metadata.GetString(GgufKeys.Architecture);

    public GgufTensorInfo? FindTensor(string name) => _byName.GetValueOrDefault(name);

    public GgufTensorInfo Tensor(string name) =>
        _byName.TryGetValue(name, out var t) ? t : throw GgufOptimizeException.BadInput($"'{Path}' has no tensor '{name}'");

    /// <summary>Bytes of all tensor data (without alignment padding).</summary>
    public long TensorDataBytes => Tensors.Sum(t => t.ByteSize);

    public long ParameterCount => Tensors.Sum(t => t.ElementCount);

    /// <summary>The raw stored bytes of one tensor.</summary>
    public byte[] ReadTensorBytes(GgufTensorInfo tensor)
    {
        var bytes = GC.AllocateUninitializedArray<byte>(checked((int)tensor.ByteSize));
        ReadTensorBytes(tensor, bytes);
        return bytes;
    }

    /// <summary>Reads the raw bytes of one tensor into <paramref name="destination"/> (exactly its byte size).</summary>
    public void ReadTensorBytes(GgufTensorInfo tensor, Span<byte> destination)
    {
        if (destination.Length != tensor.ByteSize) throw new ArgumentException($"buffer of {destination.Length} bytes for tensor '{tensor.Name}' of {tensor.ByteSize} bytes");
        var holder = Holder(tensor);
        using var handle = holder.OpenHandle();
        holder.ReadAt(handle, holder.DataOffset + tensor.Offset, destination, tensor.Name);
    }

    /// <summary>Streams the raw bytes of one tensor into <paramref name="destination"/> without holding it all in memory.</summary>
    public void CopyTensorBytes(GgufTensorInfo tensor, Stream destination, CancellationToken cancellationToken = default)
    {
        var holder = Holder(tensor);
        using var handle = holder.OpenHandle();
        var buffer = new byte[Math.Min(tensor.ByteSize, 1 << 20)];
        long done = 0;
        while (done < tensor.ByteSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = (int)Math.Min(buffer.Length, tensor.ByteSize - done);
            holder.ReadAt(handle, holder.DataOffset + tensor.Offset + done, buffer.AsSpan(0, n), tensor.Name);
            destination.Write(buffer, 0, n);
            done += n;
        }
    }

    /// <summary>A tensor's elements as floats; only F32, F16 and BF16 tensors can be read this way.</summary>
    public float[] ReadTensorFloats(GgufTensorInfo tensor)
    {
        if (tensor.Type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16))
            throw GgufOptimizeException.BadInput($"tensor '{tensor.Name}' in '{Path}' is {GgmlTypes.Name(tensor.Type)}; only F32, F16 and BF16 tensors can be read as floats");
        var result = new float[checked((int)tensor.ElementCount)];
        if (tensor.Type == GgmlType.F32)
        {
            ReadTensorBytes(tensor, MemoryMarshal.AsBytes(result.AsSpan()));
            return result;
        }
        var raw = new ushort[result.Length];
        ReadTensorBytes(tensor, MemoryMarshal.AsBytes(raw.AsSpan()));
        if (tensor.Type == GgmlType.F16) HalfConversion.F16ToF32(raw, result);
        else HalfConversion.BF16ToF32(raw, result);
        return result;
    }

    private SafeFileHandle OpenHandle()
    {
        try
        {
            return File.OpenHandle(Path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            throw GgufOptimizeException.BadInput($"GGUF file '{Path}' cannot be opened any more: {e.Message}");
        }
    }

    private void ReadAt(SafeFileHandle handle, long offset, Span<byte> destination, string tensorName)
    {
        while (destination.Length > 0)
        {
            int n = RandomAccess.Read(handle, destination, offset);
            if (n == 0) throw GgufOptimizeException.BadInput($"GGUF file '{Path}' is truncated (tensor '{tensorName}' data is cut off; was the file changed while reading?)");
            destination = destination[n..];
            offset += n;
        }
    }
}
