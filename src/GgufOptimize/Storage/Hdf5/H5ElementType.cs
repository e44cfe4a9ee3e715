namespace GgufOptimize.Storage.Hdf5;

/// <summary>Element types a contiguous dataset can hold; all little-endian. <see cref="Bool"/> is h5py's bool (enum over int8 {FALSE=0, TRUE=1}).</summary>
internal enum H5ElementType
{
    Bool,
    Int8,
    UInt8,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
    Float16,
    Float32,
    Float64,
}

internal static class H5ElementTypeExtensions
{
    /// <summary>Bytes per element in the file.</summary>
    public static int Size(this H5ElementType type) => type switch
    {
        H5ElementType.Bool or H5ElementType.Int8 or H5ElementType.UInt8 => 1,
        H5ElementType.Int16 or H5ElementType.UInt16 or H5ElementType.Float16 => 2,
        H5ElementType.Int32 or H5ElementType.UInt32 or H5ElementType.Float32 => 4,
        H5ElementType.Int64 or H5ElementType.UInt64 or H5ElementType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown element type"),
    };

    /// <summary>
    /// Whether <typeparamref name="T"/> is the CLR type that holds one element of <paramref name="type"/>;
    /// guards against e.g. writing float into a Float16 dataset, which would silently corrupt it.
    /// </summary>
    public static bool Accepts<T>(this H5ElementType type) where T : unmanaged => type switch
    {
        H5ElementType.Bool => typeof(T) == typeof(bool) || typeof(T) == typeof(byte),
        H5ElementType.Int8 => typeof(T) == typeof(sbyte),
        H5ElementType.UInt8 => typeof(T) == typeof(byte),
        H5ElementType.Int16 => typeof(T) == typeof(short),
        H5ElementType.UInt16 => typeof(T) == typeof(ushort),
        H5ElementType.Int32 => typeof(T) == typeof(int),
        H5ElementType.UInt32 => typeof(T) == typeof(uint),
        H5ElementType.Int64 => typeof(T) == typeof(long),
        H5ElementType.UInt64 => typeof(T) == typeof(ulong),
        H5ElementType.Float16 => typeof(T) == typeof(Half),
        H5ElementType.Float32 => typeof(T) == typeof(float),
        H5ElementType.Float64 => typeof(T) == typeof(double),
        _ => false,
    };

    internal static void RequireAccepts<T>(this H5ElementType type, string datasetPath) where T : unmanaged
    {
        if (!type.Accepts<T>())
            throw new ArgumentException($"dataset {datasetPath} holds {type}; {typeof(T).Name} elements do not match it");
    }
}
