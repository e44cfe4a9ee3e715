using GgufOptimize.Common;

namespace GgufOptimize.Metrics;

/// <summary>
/// One chunk's logits, row j being position j, read as float32 whatever the stored precision. Precision is handled
/// here, once: float32 storage is returned in place, float16 is widened (exactly) one row at a time into the
/// caller's scratch, so a scorer never sees anything but float rows and never holds a widened copy of a chunk.
/// </summary>
internal abstract class LogitRows
{
    protected LogitRows(int count, int vocabSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabSize);
        Count = count;
        VocabSize = vocabSize;
    }

    /// <summary>Rows (positions) in the chunk.</summary>
    public int Count { get; }

    public int VocabSize { get; }

    /// <summary>Row <paramref name="index"/> as float32; <paramref name="scratch"/> (≥ VocabSize values) may hold it.</summary>
    public abstract ReadOnlySpan<float> Row(int index, Span<float> scratch);

    /// <summary>
    /// Says rows [first, first + count) will not be read again: a memory-mapped source drops their pages from the
    /// process (they stay in the page cache), so scoring a long file does not keep every row it read resident.
    /// </summary>
    public virtual void Release(int first, int count) { }

    /// <summary>Rows [first, first + count) of these rows, as rows 0 … count − 1.</summary>
    public LogitRows Slice(int first, int count) =>
        first == 0 && count == Count ? this
            : (uint)first <= (uint)Count && (uint)count <= (uint)(Count - first) ? new SlicedRows(this, first, count)
            : throw new ArgumentOutOfRangeException(nameof(first), $"rows [{first}, {first + count}) are outside {Count} rows");

    /// <summary>Rows over float32 values (count × vocabSize, row-major).</summary>
    public static LogitRows Of(ReadOnlyMemory<float> values, int vocabSize) => new FloatRows(values, vocabSize);

    /// <summary>Rows over float16 values (count × vocabSize, row-major), widened on access.</summary>
    public static LogitRows Of(ReadOnlyMemory<Half> values, int vocabSize) => new HalfRows(values, vocabSize);

    protected static int RowCount(int length, int vocabSize) =>
        vocabSize > 0 && length % vocabSize == 0 ? length / vocabSize
            : throw new ArgumentException($"{length} logits are not whole rows of {vocabSize}");

    /// <summary>Rows computed from a stored span per row (e.g. a memory map), in the stored precision.</summary>
    /// <param name="release">Drops the pages of rows [first, first + count) (see <see cref="Release"/>), when the source can.</param>
    public static LogitRows Of<T>(int count, int vocabSize, Func<int, ReadOnlySpan<T>> row, Action<int, int>? release = null) where T : unmanaged =>
        typeof(T) == typeof(float) || typeof(T) == typeof(Half)
            ? new SpanRows<T>(count, vocabSize, row, release)
            : throw new NotSupportedException($"logits stored as {typeof(T).Name}");

    /// <summary>Copies stored row <c>index</c> into <c>destination</c> (exactly VocabSize values).</summary>
    public delegate void RowReader<T>(int index, Span<T> destination) where T : unmanaged;

    /// <summary>
    /// Rows copied out of storage on access (e.g. positional reads of a file) into the caller's scratch: float32 straight
    /// into it, float16 through a per-thread staging row and widened into it. Nothing stays resident, so
    /// <see cref="Release"/> has nothing to do.
    /// </summary>
    public static LogitRows Read<T>(int count, int vocabSize, RowReader<T> read) where T : unmanaged =>
        typeof(T) == typeof(float) ? new ReadFloatRows(count, vocabSize, (RowReader<float>)(object)read)
            : typeof(T) == typeof(Half) ? new ReadHalfRows(count, vocabSize, (RowReader<Half>)(object)read)
            : throw new NotSupportedException($"logits stored as {typeof(T).Name}");

    private sealed class ReadFloatRows(int count, int vocabSize, RowReader<float> read) : LogitRows(count, vocabSize)
    {
        public override ReadOnlySpan<float> Row(int index, Span<float> scratch)
        {
            if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
            var row = scratch[..VocabSize];
            read(index, row);
            return row;
        }
    }

    private sealed class ReadHalfRows(int count, int vocabSize, RowReader<Half> read) : LogitRows(count, vocabSize)
    {
        /// <summary>The stored row before widening; one per thread, as scoring threads read rows at once.</summary>
        [ThreadStatic] private static Half[]? t_staging;

        public override ReadOnlySpan<float> Row(int index, Span<float> scratch)
        {
            if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
            var staging = t_staging is { } s && s.Length >= VocabSize ? s : t_staging = new Half[VocabSize];
            var stored = staging.AsSpan(0, VocabSize);
            read(index, stored);
            var row = scratch[..VocabSize];
            HalfConversion.ToSingle(stored, row);
            return row;
        }
    }

    private sealed class FloatRows(ReadOnlyMemory<float> values, int vocabSize) : LogitRows(RowCount(values.Length, vocabSize), vocabSize)
    {
        public override ReadOnlySpan<float> Row(int index, Span<float> scratch) => values.Span.Slice(checked(index * VocabSize), VocabSize);
    }

    private sealed class HalfRows(ReadOnlyMemory<Half> values, int vocabSize) : LogitRows(RowCount(values.Length, vocabSize), vocabSize)
    {
        public override ReadOnlySpan<float> Row(int index, Span<float> scratch)
        {
            var row = scratch[..VocabSize];
            HalfConversion.ToSingle(values.Span.Slice(checked(index * VocabSize), VocabSize), row);
            return row;
        }
    }

    private sealed class SlicedRows(LogitRows rows, int first, int count) : LogitRows(count, rows.VocabSize)
    {
        public override ReadOnlySpan<float> Row(int index, Span<float> scratch) =>
            (uint)index < (uint)Count ? rows.Row(first + index, scratch) : throw new ArgumentOutOfRangeException(nameof(index));

        public override void Release(int from, int n) => rows.Release(first + from, n);
    }

    private sealed class SpanRows<T>(int count, int vocabSize, Func<int, ReadOnlySpan<T>> row, Action<int, int>? release) : LogitRows(count, vocabSize) where T : unmanaged
    {
        public override void Release(int first, int n) => release?.Invoke(first, n);

        public override ReadOnlySpan<float> Row(int index, Span<float> scratch)
        {
            if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
            var stored = row(index);
            if (typeof(T) == typeof(float)) return System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(stored);
            var widened = scratch[..VocabSize];
            HalfConversion.ToSingle(System.Runtime.InteropServices.MemoryMarshal.Cast<T, Half>(stored), widened);
            return widened;
        }
    }
}
