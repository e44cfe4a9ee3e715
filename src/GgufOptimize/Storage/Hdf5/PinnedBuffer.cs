using System.Runtime.InteropServices;

namespace GgufOptimize.Storage.Hdf5;

/// <summary>
/// A byte buffer that never moves (allocated on the pinned heap) and knows its address, so that data destined for a
/// file position can be placed at the same offset within a page as that position: the block-aligned middle of the
/// write then goes to the disk with O_DIRECT straight from here (<see cref="DirectWrites"/>), with no copy into an
/// aligned staging buffer first.
/// </summary>
internal sealed class PinnedBuffer
{
    /// <summary>The page size: O_DIRECT's alignment of memory and file offsets (see <see cref="DirectWrites"/>).</summary>
    public const int Block = 4096;

    private readonly byte[] _bytes;
    private readonly long _address;

    /// <param name="capacity">Bytes usable from any start <see cref="StartFor"/> returns.</param>
    public PinnedBuffer(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Capacity = capacity;
        _bytes = GC.AllocateUninitializedArray<byte>(checked(capacity + Block), pinned: true);
        _address = Marshal.UnsafeAddrOfPinnedArrayElement(_bytes, 0);
        AskForHugePages(_address, _bytes.Length);
    }

    /// <summary>
    /// Backs the buffer's 2 MiB-aligned interior with transparent huge pages where the kernel offers them on request:
    /// a fresh buffer's first touch then takes one fault per 2 MiB instead of one per 4 KiB, which measured about half
    /// the CPU time of touching it (BENCHMARKS.md, "First touch of the write buffers"). Only advice: ignored where
    /// refused.
    /// </summary>
    private static void AskForHugePages(long address, long length)
    {
        if (!OperatingSystem.IsLinux() || length < 2 * HugePage) return;
        long from = (address + HugePage - 1) & ~(HugePage - 1), to = (address + length) & ~(HugePage - 1);
        if (to > from) _ = Madvise((nint)from, (nuint)(to - from), MadvHugePage);
    }

    private const long HugePage = 2L << 20;
    private const int MadvHugePage = 14;

    [DllImport("libc", EntryPoint = "madvise")]
    private static extern int Madvise(nint address, nuint length, int advice);

    public int Capacity { get; }

    /// <summary>Where the buffer's first byte lives (it never moves).</summary>
    internal long Address => _address;

    /// <summary>The index in this buffer whose address lies at the same offset within a page as <paramref name="filePosition"/>.</summary>
    public int StartFor(long filePosition) => (int)(((filePosition - _address) % Block + Block) % Block);

    /// <summary>Whether the byte at <paramref name="start"/> and <paramref name="filePosition"/> share their offset within a page.</summary>
    public bool InPhase(int start, long filePosition) => (_address + start - filePosition) % Block == 0;

    public Span<byte> Span(int start, int length) => _bytes.AsSpan(start, length);
}
