using GgufOptimize.Storage.Hdf5;

namespace GgufOptimize.Storage.Formats;

/// <summary>
/// A baseline writer whose stored form of a row can be made on the decode thread, straight from llama.cpp's output
/// buffer, into the write queue's own buffers: one pass over the logits (the copy, the float16 conversion or the .kld
/// quantization) instead of a copy into the queue and an encoding pass after it, and only of the rows the format keeps.
/// The queue places each encoded slice at its file position's offset within a page, so large writes go to the disk
/// without another copy (see <see cref="PinnedBuffer"/>).
/// </summary>
internal interface IEncodedRowsWriter : IBaselineWriter
{
    /// <summary>Bytes of one stored row.</summary>
    int EncodedRowBytes { get; }

    /// <summary>The first position of a chunk the format stores: earlier rows need not even be computed.</summary>
    int FirstStoredPosition { get; }

    /// <summary>Of the positions [firstPosition, firstPosition + rows), the ones this format stores (From == To: none).</summary>
    (int From, int To) StoredPositions(int firstPosition, int rows);

    /// <summary>The file offset of the stored row <paramref name="position"/> of <paramref name="chunk"/>.</summary>
    long FilePosition(int chunk, int position);

    /// <summary>Encodes whole rows (n × n_vocab floats) into n × <see cref="EncodedRowBytes"/> bytes; any thread, no state.</summary>
    void Encode(ReadOnlySpan<float> rows, Span<byte> destination);

    /// <summary>Writes encoded rows of <paramref name="chunk"/> starting at <paramref name="firstPosition"/> (the queue's thread).</summary>
    void WriteEncoded(int chunk, int firstPosition, PinnedBuffer source, int start, int length);
}
