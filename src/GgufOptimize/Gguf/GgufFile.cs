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

    /// <summary>Reads the header of <paramref name="path"/>; bad files fail with a BadInput error naming the file.</summary>
    public static GgufFile Read(string path) => GgufReader.Read(path);

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
        using var handle = OpenHandle();
        ReadAt(handle, DataOffset + tensor.Offset, destination, tensor.Name);
    }

    /// <summary>Streams the raw bytes of one tensor into <paramref name="destination"/> without holding it all in memory.</summary>
    public void CopyTensorBytes(GgufTensorInfo tensor, Stream destination, CancellationToken cancellationToken = default)
    {
        using var handle = OpenHandle();
        var buffer = new byte[Math.Min(tensor.ByteSize, 1 << 20)];
        long done = 0;
        while (done < tensor.ByteSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = (int)Math.Min(buffer.Length, tensor.ByteSize - done);
            ReadAt(handle, DataOffset + tensor.Offset + done, buffer.AsSpan(0, n), tensor.Name);
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
