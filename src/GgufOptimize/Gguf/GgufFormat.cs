namespace GgufOptimize.Gguf;

/// <summary>Constants of the GGUF container format.</summary>
internal static class GgufFormat
{
    /// <summary>"GGUF" read as a little-endian uint32.</summary>
    public const uint Magic = 0x46554747;
    public const uint Version = 3;
    public const uint DefaultAlignment = 32;
    /// <summary>ggml's GGML_MAX_DIMS.</summary>
    public const int MaxDimensions = 4;
    /// <summary>ggml's GGML_MAX_NAME: a tensor name must be shorter than this many bytes.</summary>
    public const int MaxTensorNameBytes = 64;

    internal static long Align(long offset, long alignment) => (offset + alignment - 1) / alignment * alignment;

    internal static bool IsValidAlignment(long alignment) => alignment > 0 && (alignment & (alignment - 1)) == 0;
}
