using GgufOptimize.Common;
using GgufOptimize.Storage.Hdf5.Format;

namespace GgufOptimize.Storage.Hdf5;

/// <summary>
/// Creates HDF5 files (readable by h5py / libhdf5 1.10+ and PureHDF) in which every dataset is contiguous at an
/// offset fixed before any data is written, with all metadata at the start of the file; and reads those offsets back.
/// Bulk data then goes straight to disk with <see cref="Hdf5DataWriter"/> and is read with <see cref="Hdf5MappedReader"/>.
/// </summary>
internal static class Hdf5ContiguousFile
{
    /// <summary>
    /// Writes the complete file: metadata, initial data of small datasets, and the full length (sparse zeros, or
    /// reserved blocks). The file is written under a temporary name and renamed, so <paramref name="path"/> never
    /// holds a half-written file; after this it is valid HDF5 whose unwritten data reads as zeros.
    /// </summary>
    public static Hdf5Layout Create(string path, Hdf5FileSpec spec, Hdf5CreateOptions? options = null)
    {
        options ??= new Hdf5CreateOptions();
        string fullPath = Path.GetFullPath(path);
        if (!options.Overwrite && File.Exists(fullPath))
            throw GgufOptimizeException.BadInput($"HDF5 file '{path}' already exists");
        var plan = FilePlan.Create(spec, options.DataAlignment);
        if (options.CheckFreeSpace) RequireFreeSpace(path, fullPath, plan.TotalLength);

        string temp = AtomicFile.TempName(fullPath);
        try
        {
            var streamOptions = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.ReadWrite,
                Share = FileShare.None,
                BufferSize = 0,
                PreallocationSize = options.ReserveDiskSpace ? plan.TotalLength : 0,
            };
            using (var stream = FileStep.Create(temp, streamOptions))
            {
                RandomAccess.Write(stream.SafeFileHandle, plan.Metadata, 0);
                foreach (var (dataset, offset) in plan.Datasets)
                    if (dataset.InitialData is { } data)
                        RandomAccess.Write(stream.SafeFileHandle, data.Span, offset);
                stream.SetLength(plan.TotalLength);
                FileStep.Wrote(temp);
                FileStep.Sync(stream);
            }
            FileStep.Move(temp, fullPath, overwrite: options.Overwrite);
        }
        catch (DirectoryNotFoundException)
        {
            throw GgufOptimizeException.BadInput($"cannot create HDF5 file '{path}': its directory does not exist");
        }
        catch (UnauthorizedAccessException)
        {
            AtomicFile.TryDelete(temp);
            throw GgufOptimizeException.BadInput($"cannot create HDF5 file '{path}': permission denied");
        }
        catch (IOException e)
        {
            AtomicFile.TryDelete(temp);
            throw GgufOptimizeException.Runtime($"cannot create HDF5 file '{path}' ({plan.TotalLength} bytes): {e.Message}", e);
        }
        catch
        {
            AtomicFile.TryDelete(temp);
            throw;
        }
        return Open(fullPath);
    }

    /// <summary>
    /// Reads the layout of an HDF5 file whose datasets are all contiguous (ours, or e.g. h5py's defaults).
    /// Missing, truncated, corrupt, non-HDF5 files and unsupported storage (chunked, compressed, ...) are
    /// BadInput errors naming the file.
    /// </summary>
    public static Hdf5Layout Open(string path) => LayoutReader.Read(path);

    private static void RequireFreeSpace(string path, string fullPath, long needed)
    {
        string? directory = Path.GetDirectoryName(fullPath);
        if (directory is null || !Directory.Exists(directory)) return; // reported when the file is created
        long available = new DriveInfo(directory).AvailableFreeSpace;
        if (available < needed)
            throw GgufOptimizeException.Runtime(
                $"not enough free disk space for HDF5 file '{path}': it needs {needed / 1e9:F2} GB, {available / 1e9:F2} GB are available");
    }

}
