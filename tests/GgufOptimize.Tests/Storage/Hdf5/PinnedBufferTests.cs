using System.Globalization;
using GgufOptimize.Storage.Hdf5;

namespace GgufOptimize.Tests.Storage.Hdf5;

/// <summary>
/// The write queue's buffers live in native memory (huge pages advised from 2 MB on): every byte of the capacity is
/// usable from any start the phase rule gives, nothing beyond it is handed out, and a freed buffer refuses use.
/// </summary>
public class PinnedBufferTests
{
    [Theory]
    [InlineData(1000)]
    [InlineData(PinnedBuffer.HugePage - PinnedBuffer.Block)]
    [InlineData(3 * PinnedBuffer.HugePage + 12345)]
    public void Every_start_the_phase_rule_gives_holds_the_whole_capacity(int capacity)
    {
        using var buffer = new PinnedBuffer(capacity);
        foreach (long filePosition in new long[] { 0, 1, 4095, 4096, 123_456_789 })
        {
            int start = buffer.StartFor(filePosition);
            Assert.InRange(start, 0, PinnedBuffer.Block - 1);
            Assert.True(buffer.InPhase(start, filePosition));
            Assert.False(buffer.InPhase((start + 1) % PinnedBuffer.Block, filePosition));
            var span = buffer.Span(start, capacity);
            for (int i = 0; i < span.Length; i += 997) span[i] = (byte)(i * 31);
            span[^1] = 0xAB;
            for (int i = 0; i < span.Length; i += 997) Assert.Equal((byte)(i * 31), span[i]);
            Assert.Equal(0xAB, buffer.Span(start, capacity)[^1]);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Span(PinnedBuffer.Block, capacity + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Span(capacity + PinnedBuffer.Block + 1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Span(-1, 1));
    }

    [Fact]
    public void A_freed_buffer_refuses_use_and_frees_once()
    {
        var buffer = new PinnedBuffer(3 * PinnedBuffer.HugePage);
        buffer.Span(0, 10).Fill(1);
        buffer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => buffer.Span(0, 10));
        buffer.Dispose();
    }

    [SkippableFact]
    public void A_large_buffer_is_marked_for_huge_pages_in_the_kernels_map()
    {
        const string Mode = "/sys/kernel/mm/transparent_hugepage/enabled";
        Skip.IfNot(OperatingSystem.IsLinux() && File.Exists(Mode), "needs Linux with transparent huge pages");
        Skip.If(File.ReadAllText(Mode).Contains("[never]", StringComparison.Ordinal), "transparent huge pages are off on this machine");

        using var buffer = new PinnedBuffer(8 << 20);
        Assert.Contains("hg", FlagsOfMappingAt(buffer.Address + (4 << 20)));
    }

    /// <summary>The VmFlags of the mapping that holds <paramref name="address"/>, from /proc/self/smaps.</summary>
    private static string[] FlagsOfMappingAt(long address)
    {
        bool inside = false;
        foreach (string line in File.ReadLines("/proc/self/smaps"))
        {
            int dash = line.IndexOf('-');
            int space = line.IndexOf(' ');
            if (dash > 0 && space > dash && long.TryParse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long start)
                && long.TryParse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long end))
            {
                inside = start <= address && address < end;
                continue;
            }
            if (inside && line.StartsWith("VmFlags:", StringComparison.Ordinal))
                return line["VmFlags:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        }
        throw new InvalidOperationException($"no mapping holds 0x{address:x}");
    }
}
