namespace GgufOptimize.Gguf;

/// <summary>The imatrix a model was quantized with, as llama-quantize records it in the model's metadata.</summary>
/// <param name="File">The imatrix file as given to the quantizer (often a path).</param>
/// <param name="Chunks">Calibration chunks the imatrix was computed from, when recorded.</param>
internal sealed record ImatrixProvenance(string File, string? Dataset, long? Chunks, long? Entries);

/// <summary>
/// How a GGUF model was quantized, read from its header alone: the file type, the imatrix (null = the header records
/// none, i.e. quantized without one), and size and bits per weight as <c>inspect</c> counts them.
/// </summary>
internal sealed record QuantizationFacts(string? Type, ImatrixProvenance? Imatrix, long FileBytes, long Parameters, double BitsPerWeight)
{
    public static QuantizationFacts Read(string path) => Of(GgufFile.Read(path));

    public static QuantizationFacts Of(GgufFile file)
    {
        var m = file.Metadata;
        // 1024 is llama.cpp's "guessed" flag, not a type.
        string? type = m.GetInteger(GgufKeys.FileType) is { } id && id is >= 0 and < 1024 ? LlamaFileTypes.Name((int)id) : null;
        var imatrix = m.GetString(GgufKeys.ImatrixFile) is { } f
            ? new ImatrixProvenance(f, m.GetString(GgufKeys.ImatrixDataset), m.GetInteger(GgufKeys.ImatrixChunks), m.GetInteger(GgufKeys.ImatrixEntries))
            : null;
        long parameters = file.ParameterCount;
        return new QuantizationFacts(type, imatrix, file.FileLength, parameters, parameters > 0 ? 8.0 * file.TensorDataBytes / parameters : double.NaN);
    }
}
