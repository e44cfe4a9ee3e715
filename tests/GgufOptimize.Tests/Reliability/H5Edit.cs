using System.Runtime.InteropServices;
using GgufOptimize.Storage.Hdf5;

namespace GgufOptimize.Tests.Reliability;

/// <summary>
/// A contiguous HDF5 file of ours held in memory (root attributes, groups with their attributes, root datasets with
/// their bytes), to be changed and written back: how the tests make files whose attributes disagree with their data.
/// </summary>
internal sealed class H5Edit
{
    public sealed class Data(string name, H5ElementType type, long[] shape, byte[] bytes)
    {
        public string Name { get; } = name;
        public H5ElementType Type { get; set; } = type;
        public long[] Shape { get; set; } = shape;
        public byte[] Bytes { get; set; } = bytes;
        public Span<T> As<T>() where T : unmanaged => MemoryMarshal.Cast<byte, T>(Bytes.AsSpan());
    }

    public List<KeyValuePair<string, object>> Attributes { get; } = [];
    public List<(string Name, List<KeyValuePair<string, object>> Attributes)> Groups { get; } = [];
    public List<Data> Datasets { get; } = [];

    public static H5Edit Load(string path)
    {
        var layout = Hdf5ContiguousFile.Open(path);
        var edit = new H5Edit();
        edit.Attributes.AddRange(layout.Root.Attributes);
        using var reader = Hdf5MappedReader.Open(layout);
        foreach (string member in layout.Root.Members)
        {
            string p = "/" + member;
            if (layout.TryGetDataset(p, out var d))
                edit.Datasets.Add(new Data(member, d.Type, d.Shape.ToArray(), d.ByteLength == 0 ? [] : reader.Bytes(d, 0, checked((int)d.ByteLength)).ToArray()));
            else
                edit.Groups.Add((member, layout.Group(p).Attributes.ToList()));
        }
        return edit;
    }

    public Data this[string name] => Datasets.Single(d => d.Name == name);

    public object Attribute(string name) => Attributes.Single(a => a.Key == name).Value;

    public H5Edit Set(string name, object value)
    {
        int i = Attributes.FindIndex(a => a.Key == name);
        if (i < 0) Attributes.Add(new(name, value));
        else Attributes[i] = new(name, value);
        return this;
    }

    public void Save(string path)
    {
        var spec = new Hdf5FileSpec();
        Apply(spec.Root, Attributes);
        foreach (var (name, attributes) in Groups) Apply(spec.Root.AddGroup(name), attributes);
        foreach (var d in Datasets)
        {
            var ds = spec.Root.AddDataset(d.Name, d.Type, d.Shape);
            if (ds.ElementCount > 0) SetData(ds, d);
        }
        Hdf5ContiguousFile.Create(path, spec, new Hdf5CreateOptions { Overwrite = true });
    }

    private static void SetData(Hdf5DatasetSpec ds, Data d)
    {
        var b = (ReadOnlySpan<byte>)d.Bytes;
        switch (d.Type)
        {
            case H5ElementType.Bool or H5ElementType.UInt8: ds.SetInitialData(b); break;
            case H5ElementType.Int8: ds.SetInitialData(MemoryMarshal.Cast<byte, sbyte>(b)); break;
            case H5ElementType.Int16: ds.SetInitialData(MemoryMarshal.Cast<byte, short>(b)); break;
            case H5ElementType.UInt16: ds.SetInitialData(MemoryMarshal.Cast<byte, ushort>(b)); break;
            case H5ElementType.Int32: ds.SetInitialData(MemoryMarshal.Cast<byte, int>(b)); break;
            case H5ElementType.UInt32: ds.SetInitialData(MemoryMarshal.Cast<byte, uint>(b)); break;
            case H5ElementType.Int64: ds.SetInitialData(MemoryMarshal.Cast<byte, long>(b)); break;
            case H5ElementType.UInt64: ds.SetInitialData(MemoryMarshal.Cast<byte, ulong>(b)); break;
            case H5ElementType.Float16: ds.SetInitialData(MemoryMarshal.Cast<byte, Half>(b)); break;
            case H5ElementType.Float32: ds.SetInitialData(MemoryMarshal.Cast<byte, float>(b)); break;
            case H5ElementType.Float64: ds.SetInitialData(MemoryMarshal.Cast<byte, double>(b)); break;
        }
    }

    private static void Apply(Hdf5ObjectSpec target, IEnumerable<KeyValuePair<string, object>> attributes)
    {
        foreach (var (k, v) in attributes)
        {
            switch (v)
            {
                case string s: target.SetAttribute(k, s); break;
                case long l: target.SetAttribute(k, l); break;
                case int i: target.SetAttribute(k, i); break;
                case double d: target.SetAttribute(k, d); break;
                case bool b: target.SetAttribute(k, b); break;
                case long[] la: target.SetAttribute(k, la); break;
                case double[] da: target.SetAttribute(k, da); break;
                case string[] sa: target.SetAttribute(k, sa); break;
                default: throw new NotSupportedException($"attribute {k} of type {v.GetType().Name}");
            }
        }
    }
}
