using PureHDF.Filters;

namespace GgufOptimize.Storage.Hdf5.Filters;

/// <summary>
/// h5py's LZF filter (registered HDF5 filter id 32000), as llama-gguf-optimize's <c>generate_logits.py
/// --compression lzf</c> writes it. Each stored chunk is one raw LZF stream, no header; the filter's client data
/// holds [filter revision, LZF API version, uncompressed chunk size in bytes]. Read only: we never write LZF.
/// </summary>
/// <remarks>
/// h5py's filter is optional: when LZF cannot shrink a chunk (typical for float logits) HDF5 stores the chunk as it
/// was and sets the chunk's filter-mask bit. PureHDF 2.2.0 hands such chunks to the filter anyway, so a buffer exactly
/// as long as the uncompressed chunk is taken as stored unfiltered — unless it is a valid LZF stream of exactly that
/// length, which happens when LZF saved nothing but kept its output (liblzf may fill its output buffer to the byte).
/// </remarks>
internal sealed class LzfFilter : IH5Filter
{
    public const ushort Id = 32000;

    public ushort FilterId => Id;

    public string Name => "lzf";

    public Memory<byte> Filter(FilterInfo info)
    {
        if (!info.Flags.HasFlag(H5FilterFlags.Decompress))
            throw new NotSupportedException("gguf-optimize reads LZF-compressed HDF5 data but does not write it");
        var input = info.Buffer.Span;
        long chunkBytes = info.Parameters is { Length: >= 3 } p && p[2] > 0 ? p[2] : info.ChunkSize;
        if (input.Length == chunkBytes && !IsLzfOfLength(input, chunkBytes))
            return info.Buffer;
        var output = new byte[Lzf.DecompressedLength(input)];
        Lzf.Decompress(input, output);
        return output;
    }

    private static bool IsLzfOfLength(ReadOnlySpan<byte> input, long length)
    {
        try { return Lzf.DecompressedLength(input) == length; }
        catch (InvalidDataException) { return false; }
    }

    public uint[] GetParameters(uint[] chunkDimensions, uint typeSize, Dictionary<string, object>? options) =>
        throw new NotSupportedException("gguf-optimize reads LZF-compressed HDF5 data but does not write it");
}
