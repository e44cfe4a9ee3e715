using System.Text;
using GgufOptimize.Common;

namespace GgufOptimize.Gguf;

/// <summary>
/// Builds a GGUF v3 file from metadata and tensors. Tensor data is produced by callbacks at write time,
/// so a model larger than memory can be written one tensor at a time. The file appears under its final
/// name only once complete (written to "&lt;path&gt;.partial", then renamed).
/// </summary>
internal sealed class GgufWriter
{
    private readonly List<PendingTensor> _tensors = [];

    public GgufMetadata Metadata { get; }

    public GgufWriter() : this(new GgufMetadata()) { }

    public GgufWriter(GgufMetadata metadata) => Metadata = metadata;

    /// <summary>Tensors in the order they will be written (offsets are assigned at write time).</summary>
    public IReadOnlyList<(string Name, GgmlType Type, IReadOnlyList<long> Dimensions)> Tensors =>
        _tensors.Select(t => (t.Name, t.Type, (IReadOnlyList<long>)t.Dimensions)).ToList();

    /// <summary>
    /// Adds a tensor whose bytes <paramref name="writeData"/> writes into the given stream when the file is written;
    /// it must write exactly the tensor's byte size (checked).
    /// </summary>
    public void AddTensor(string name, GgmlType type, ReadOnlySpan<long> dimensions, Action<Stream> writeData)
    {
        ArgumentNullException.ThrowIfNull(writeData);
        if (Encoding.UTF8.GetByteCount(name) is 0 or >= GgufFormat.MaxTensorNameBytes)
            throw new ArgumentException($"tensor name '{name}' must be 1 to {GgufFormat.MaxTensorNameBytes - 1} bytes of UTF-8");
        if (dimensions.Length > GgufFormat.MaxDimensions) throw new ArgumentException($"tensor '{name}' has {dimensions.Length} dimensions (max {GgufFormat.MaxDimensions})");
        foreach (var d in dimensions) if (d < 0) throw new ArgumentException($"tensor '{name}' has a negative dimension");
        if (_tensors.Any(t => t.Name == name)) throw new ArgumentException($"tensor '{name}' was added twice");
        long bytes = GgmlTypes.TensorBytes(type, dimensions);
        _tensors.Add(new PendingTensor(name, type, dimensions.ToArray(), bytes, writeData));
    }

    /// <summary>Adds a tensor from bytes already in memory.</summary>
    public void AddTensor(string name, GgmlType type, ReadOnlySpan<long> dimensions, ReadOnlyMemory<byte> data)
    {
        long expected = GgmlTypes.TensorBytes(type, dimensions);
        if (data.Length != expected) throw new ArgumentException($"tensor '{name}' needs {expected} bytes, got {data.Length}");
        AddTensor(name, type, dimensions, s => s.Write(data.Span));
    }

    /// <summary>Adds an F32 tensor from floats in memory.</summary>
    public void AddTensor(string name, ReadOnlySpan<long> dimensions, float[] data) =>
        AddTensor(name, GgmlType.F32, dimensions, new ReadOnlyMemory<byte>(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()).ToArray()));

    public bool RemoveTensor(string name) => _tensors.RemoveAll(t => t.Name == name) > 0;

    /// <summary>
    /// A writer holding all metadata and tensors of <paramref name="source"/> (tensor bytes are copied from the
    /// source file at write time). Edit <see cref="Metadata"/> before writing to add or replace keys.
    /// </summary>
    public static GgufWriter CopyOf(GgufFile source)
    {
        var writer = new GgufWriter(source.Metadata.Clone());
        foreach (var t in source.Tensors)
        {
            var tensor = t;
            writer.AddTensor(t.Name, t.Type, t.Dimensions.ToArray(), s => source.CopyTensorBytes(tensor, s));
        }
        return writer;
    }

    /// <summary>Writes the file: to "&lt;path&gt;.partial" first, renamed over <paramref name="path"/> when complete.</summary>
    public void Write(string path, IProgressSink? progress = null, CancellationToken cancellationToken = default)
    {
        if (!BitConverter.IsLittleEndian) throw GgufOptimizeException.Runtime("GGUF writing needs a little-endian machine");
        long alignment = ResolveAlignment();
        string full = System.IO.Path.GetFullPath(path);
        string? dir = System.IO.Path.GetDirectoryName(full);
        if (dir is not null && !Directory.Exists(dir)) throw GgufOptimizeException.BadInput($"output folder '{dir}' does not exist (for '{path}')");
        string partial = full + ".partial";
        progress ??= NullProgress.Instance;
        try
        {
            using (var file = FileStep.Create(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                WriteHeader(file, alignment);
                FileStep.Wrote(partial);
                progress.Start($"writing {System.IO.Path.GetFileName(path)}", _tensors.Count);
                for (int i = 0; i < _tensors.Count; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var t = _tensors[i];
                    var counting = new CountingWriteStream(file);
                    t.WriteData(counting);
                    if (counting.Written != t.Bytes)
                        throw new InvalidOperationException($"tensor '{t.Name}' wrote {counting.Written} bytes, expected {t.Bytes}");
                    WritePadding(file, alignment);
                    progress.Report(i + 1);
                }
                FileStep.Sync(file);
            }
            progress.Finish();
            FileStep.Move(partial, full, overwrite: true);
        }
        catch
        {
            progress.Finish();
            AtomicFile.TryDelete(partial);
            throw;
        }
    }

    private long ResolveAlignment()
    {
        if (!Metadata.TryGet(GgufKeys.Alignment, out var value)) return GgufFormat.DefaultAlignment;
        if (value.Type != GgufValueType.UInt32 || !GgufFormat.IsValidAlignment(value.AsInt64()))
            throw new InvalidOperationException($"{GgufKeys.Alignment} must be a uint32 power of two, got {value}");
        return value.AsInt64();
    }

    private void WriteHeader(Stream file, long alignment)
    {
        using var w = new BinaryWriter(file, Encoding.UTF8, leaveOpen: true);
        w.Write(GgufFormat.Magic);
        w.Write(GgufFormat.Version);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)Metadata.Count);
        foreach (var (key, value) in Metadata)
        {
            WriteString(w, Encoding.UTF8.GetBytes(key));
            w.Write((uint)value.Type);
            WriteValue(w, value);
        }
        long offset = 0;
        foreach (var t in _tensors)
        {
            WriteString(w, Encoding.UTF8.GetBytes(t.Name));
            w.Write((uint)t.Dimensions.Length);
            foreach (var d in t.Dimensions) w.Write((ulong)d);
            w.Write((uint)t.Type);
            w.Write((ulong)offset);
            offset = GgufFormat.Align(offset + t.Bytes, alignment);
        }
        w.Flush();
        WritePadding(file, alignment);
    }

    private static void WriteValue(BinaryWriter w, GgufValue value)
    {
        if (value.IsArray)
        {
            w.Write((uint)value.ElementType);
            w.Write((ulong)value.Count);
            switch (value.ElementType)
            {
                case GgufValueType.String:
                    foreach (var s in value.AsStringBytesArray()) WriteString(w, s);
                    break;
                case GgufValueType.Array:
                    foreach (var inner in value.AsArrayOfArrays())
                    {
                        w.Write((uint)GgufValueType.Array);
                        WriteValue(w, inner);
                    }
                    break;
                default:
                    w.Write(GgufValue.BytesOf(value));
                    break;
            }
            return;
        }
        switch (value.Data)
        {
            case byte[] s: WriteString(w, s); break;
            case byte v: w.Write(v); break;
            case sbyte v: w.Write(v); break;
            case ushort v: w.Write(v); break;
            case short v: w.Write(v); break;
            case uint v: w.Write(v); break;
            case int v: w.Write(v); break;
            case float v: w.Write(v); break;
            case bool v: w.Write((byte)(v ? 1 : 0)); break;
            case ulong v: w.Write(v); break;
            case long v: w.Write(v); break;
            case double v: w.Write(v); break;
            default: throw new InvalidOperationException($"unexpected GGUF value {value}");
        }
    }

    private static void WriteString(BinaryWriter w, ReadOnlySpan<byte> utf8)
    {
        w.Write((ulong)utf8.Length);
        w.Write(utf8);
    }

    private static void WritePadding(Stream file, long alignment)
    {
        long pad = GgufFormat.Align(file.Position, alignment) - file.Position;
        if (pad > 0) file.Write(new byte[pad]);
    }


    private sealed record PendingTensor(string Name, GgmlType Type, long[] Dimensions, long Bytes, Action<Stream> WriteData);
}
