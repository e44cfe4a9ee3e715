namespace GgufOptimize.Storage.Hdf5;

internal sealed class Hdf5CreateOptions
{
    /// <summary>Every dataset starts at a multiple of this (a power of two ≥ 8) so large writes are page-aligned.</summary>
    public int DataAlignment { get; init; } = 4096;

    /// <summary>Replace an existing file instead of failing.</summary>
    public bool Overwrite { get; init; }

    /// <summary>
    /// Fail at creation when the disk has less free space than the file's full length, instead of hours later
    /// when the data is written (advisory: other writers may still fill the disk meanwhile).
    /// </summary>
    public bool CheckFreeSpace { get; init; } = true;

    /// <summary>
    /// Reserve the blocks of the whole file up front (fallocate) — a hard guarantee against running out of space,
    /// but later writes into the reserved (unwritten) extents were measured slower on ext4; without it the file is sparse.
    /// </summary>
    public bool ReserveDiskSpace { get; init; }
}
