namespace GgufOptimize.Storage.Hdf5.Format;

/// <summary>The parts of a datatype message we interpret.</summary>
internal sealed class DecodedType
{
    public int Class { get; init; }
    public int Size { get; init; }
    public bool BigEndian { get; init; }
    public bool Signed { get; init; }
    public int BitOffset { get; init; }
    public int Precision { get; init; }

    // Floating point
    public int SignLocation { get; init; }
    public int ExponentLocation { get; init; }
    public int ExponentSize { get; init; }
    public int MantissaLocation { get; init; }
    public int MantissaSize { get; init; }
    public uint ExponentBias { get; init; }
    public int MantissaNormalization { get; init; }

    // Enum, variable-length
    public DecodedType? Base { get; init; }
    public string[] MemberNames { get; init; } = [];
    public long[] MemberValues { get; init; } = [];

    // String, variable-length
    public bool IsVlenString { get; init; }
    public int StringPadding { get; init; }

    public string Describe() => Class switch
    {
        TypeClass.FixedPoint => $"{(Signed ? "" : "u")}int{Size * 8}{(BigEndian ? " big-endian" : "")}",
        TypeClass.FloatingPoint => $"float{Size * 8}{(BigEndian ? " big-endian" : "")}",
        TypeClass.String => $"fixed-length string[{Size}]",
        TypeClass.Enumerated => $"enum over {Base?.Describe()} ({string.Join(",", MemberNames)})",
        TypeClass.VariableLength => IsVlenString ? "variable-length string" : $"variable-length sequence of {Base?.Describe()}",
        TypeClass.Time => "time",
        TypeClass.BitField => "bitfield",
        TypeClass.Opaque => "opaque",
        TypeClass.Compound => "compound",
        TypeClass.Reference => "reference",
        TypeClass.Array => "array",
        _ => $"class {Class}",
    };

    /// <summary>The matching element type for dataset storage, or null when we do not read such datasets.</summary>
    public H5ElementType? ElementType()
    {
        if (BigEndian) return null;
        switch (Class)
        {
            case TypeClass.FixedPoint when BitOffset == 0 && Precision == Size * 8:
                return (Size, Signed) switch
                {
                    (1, true) => H5ElementType.Int8,
                    (1, false) => H5ElementType.UInt8,
                    (2, true) => H5ElementType.Int16,
                    (2, false) => H5ElementType.UInt16,
                    (4, true) => H5ElementType.Int32,
                    (4, false) => H5ElementType.UInt32,
                    (8, true) => H5ElementType.Int64,
                    (8, false) => H5ElementType.UInt64,
                    _ => null,
                };
            case TypeClass.FloatingPoint when IsIeee():
                return Size switch { 2 => H5ElementType.Float16, 4 => H5ElementType.Float32, _ => H5ElementType.Float64 };
            case TypeClass.Enumerated when IsBool():
                return H5ElementType.Bool;
            default:
                return null;
        }
    }

    public bool IsIeee() =>
        Class == TypeClass.FloatingPoint && !BigEndian && BitOffset == 0 && Precision == Size * 8
        && MantissaLocation == 0 && MantissaNormalization == 2 && SignLocation == Size * 8 - 1
        && (Size, ExponentLocation, ExponentSize, MantissaSize, ExponentBias) is
            (2, 10, 5, 10, 15) or (4, 23, 8, 23, 127) or (8, 52, 11, 52, 1023);

    /// <summary>h5py's bool: an enum over a one-byte integer with exactly FALSE=0 and TRUE=1.</summary>
    public bool IsBool()
    {
        if (Class != TypeClass.Enumerated || Base is not { Class: TypeClass.FixedPoint, Size: 1 } || MemberNames.Length != 2)
            return false;
        int f = Array.IndexOf(MemberNames, "FALSE"), t = Array.IndexOf(MemberNames, "TRUE");
        return f >= 0 && t >= 0 && MemberValues[f] == 0 && MemberValues[t] == 1;
    }
}
