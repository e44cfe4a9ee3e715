using System.Runtime.InteropServices;

namespace GgufOptimize.Storage.Hdf5;

/// <summary>
/// A byte buffer that never moves and knows its address, so that data destined for a file position can be placed at
/// the same offset within a page as that position: the block-aligned middle of the write then goes to the disk with
/// O_DIRECT straight from here (<see cref="DirectWrites"/>), with no copy into an aligned staging buffer first.
/// </summary>
/// <remarks>
/// Native memory rather than a pinned array, for one reason: on Linux a buffer of <see cref="HugePage"/> or more is
/// aligned to and advised for transparent huge pages. Every 4 KB page a process touches first costs a page fault, and
/// on virtual machines a fault costs microseconds: filling a fresh 16 MB buffer (one 128-token chunk of a 32k
/// vocabulary) took about as long as llama.cpp's whole decode of it, most of the storing cost of a one-chunk run
/// (BENCHMARKS.md, "Start-up on the shared models"). With huge pages that is 8 faults instead of 4,096. Where the
/// kernel ignores the advice (THP disabled) the buffer behaves as before.
/// </remarks>
internal sealed unsafe class PinnedBuffer : IDisposable
{
    /// <summary>The page size: O_DIRECT's alignment of memory and file offsets (see <see cref="DirectWrites"/>).</summary>
    public const int Block = 4096;

    /// <summary>The transparent huge page size of x86-64 and (4 KB-page) arm64 Linux.</summary>
    public const int HugePage = 2 << 20;

    private byte* _address;
    private readonly int _allocated;

    /// <param name="capacity">Bytes usable from any start <see cref="StartFor"/> returns.</param>
    public PinnedBuffer(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Capacity = capacity;
        int bytes = checked(capacity + Block);
        bool huge = OperatingSystem.IsLinux() && bytes >= HugePage;
        // Whole huge pages, so the advice covers this allocation and nothing beside it.
        _allocated = huge ? checked((bytes + HugePage - 1) / HugePage * HugePage) : bytes;
        _address = (byte*)NativeMemory.AlignedAlloc((nuint)_allocated, (nuint)(huge ? HugePage : Block));
        if (huge) _ = Madvise(_address, (nuint)_allocated, MadvHugePage); // advice only: refused, it is an ordinary buffer
        GC.AddMemoryPressure(_allocated);
    }

    public int Capacity { get; }

    /// <summary>The index in this buffer whose address lies at the same offset within a page as <paramref name="filePosition"/>.</summary>
    public int StartFor(long filePosition) => (int)((((filePosition - Address) % Block) + Block) % Block);

    /// <summary>Whether the byte at <paramref name="start"/> and <paramref name="filePosition"/> share their offset within a page.</summary>
    public bool InPhase(int start, long filePosition) => (Address + start - filePosition) % Block == 0;

    public Span<byte> Span(int start, int length)
    {
        ObjectDisposedException.ThrowIf(_address is null, this);
        if ((uint)start > (uint)(Capacity + Block) || (uint)length > (uint)(Capacity + Block - start))
            throw new ArgumentOutOfRangeException(nameof(length), $"[{start}, {start}+{length}) is outside the buffer of {Capacity + Block} bytes");
        return new Span<byte>(_address + start, length);
    }

    /// <summary>Where the buffer's first byte lives (it never moves).</summary>
    internal long Address => (long)_address;

    private const int MadvHugePage = 14;

    [DllImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static extern int Madvise(void* address, nuint length, int advice);

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    ~PinnedBuffer() => Free();

    private void Free()
    {
        if (_address is null) return;
        NativeMemory.AlignedFree(_address);
        _address = null;
        GC.RemoveMemoryPressure(_allocated);
    }
}
