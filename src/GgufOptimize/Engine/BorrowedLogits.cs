using System.Buffers;

namespace GgufOptimize.Engine;

/// <summary>
/// llama.cpp's output buffer seen as <see cref="ReadOnlyMemory{T}"/> without copying it, so a decode batch's logits
/// can be scored where they lie (a batch at 128k × 512 is 256 MB; a copy per model would double that). The memory is
/// valid only until the context decodes again, the same lifetime as the span it wraps; the pointer stays in Engine.
/// </summary>
internal sealed unsafe class BorrowedLogits : MemoryManager<float>
{
    private readonly float* _pointer;
    private readonly int _length;

    private BorrowedLogits(float* pointer, int length)
    {
        _pointer = pointer;
        _length = length;
    }

    /// <param name="native">A span over native memory (llama.cpp's logits), never over a managed array.</param>
    public static ReadOnlyMemory<float> Of(ReadOnlySpan<float> native)
    {
        if (native.IsEmpty) return ReadOnlyMemory<float>.Empty;
        fixed (float* p = native) return new BorrowedLogits(p, native.Length).Memory;
    }

    public override Span<float> GetSpan() => new(_pointer, _length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(_pointer + elementIndex);

    public override void Unpin() { }

    protected override void Dispose(bool disposing) { }
}
