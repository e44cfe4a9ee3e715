namespace GgufOptimize.Storage.Hdf5.Format;

/// <summary>Numbers fixed by the HDF5 file format specification.</summary>
internal static class H5Constants
{
    public static ReadOnlySpan<byte> Signature => [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0d, 0x0a, 0x1a, 0x0a];

    /// <summary>The "undefined address" value (all bits set).</summary>
    public const ulong UndefinedAddress = ulong.MaxValue;

    // Files we write use 8-byte addresses and lengths.
    public const int OffsetSize = 8;
    public const int LengthSize = 8;

    public const int GlobalHeapMinSize = 4096;
    public const int VlenElementSize = 4 + OffsetSize + 4;
}

/// <summary>Object header message types.</summary>
internal static class MessageType
{
    public const int Nil = 0x00;
    public const int Dataspace = 0x01;
    public const int LinkInfo = 0x02;
    public const int Datatype = 0x03;
    public const int FillValueOld = 0x04;
    public const int FillValue = 0x05;
    public const int Link = 0x06;
    public const int ExternalFiles = 0x07;
    public const int Layout = 0x08;
    public const int GroupInfo = 0x0A;
    public const int FilterPipeline = 0x0B;
    public const int Attribute = 0x0C;
    public const int Continuation = 0x10;
    public const int SymbolTable = 0x11;
    public const int AttributeInfo = 0x15;
}

/// <summary>Datatype classes.</summary>
internal static class TypeClass
{
    public const int FixedPoint = 0;
    public const int FloatingPoint = 1;
    public const int Time = 2;
    public const int String = 3;
    public const int BitField = 4;
    public const int Opaque = 5;
    public const int Compound = 6;
    public const int Reference = 7;
    public const int Enumerated = 8;
    public const int VariableLength = 9;
    public const int Array = 10;
}
