namespace GgufOptimize.Storage.Hdf5;

public sealed class Hdf5CreateOptions
{
    /// <summary>Every dataset starts at a multiple of this (a power of two ≥ 8) so large writes are page-aligned.</summary>
    public int DataAlignment { get; init; } = 4096;

    /// <summary>Replace an existing file instead of failing.</summary>
    public bool Overwrite { get; init; }

    /// <summary>
    /// Ask the file system to reserve the blocks of the whole file up front (fallocate), so a full disk is reported
    /// at creation instead of hours later; without it the file is sparse.
    /// </summary>
    public bool ReserveDiskSpace { get; init; }
}
