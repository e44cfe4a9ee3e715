using GgufOptimize.Chunking;
using GgufOptimize.Storage.Hdf5;

namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>Builds the final quantized compact HDF5 file from the chunks of a <see cref="CompactLog"/> (and copies a file's chunks back into one).</summary>
internal static class QuantizedBaselineFile
{
    /// <summary>Writes the file at <paramref name="path"/>, atomically (<see cref="CompactFileBuild.WriteAtomically"/>).</summary>
    public static void Build(string path, BaselineHeader header, QuantizedRowSettings settings, IChunkSource plan, CompactLog log)
    {
        int chunks = header.TotalChunks;
        var present = CompactFileBuild.PresentChunks(log, chunks);
        var start = new long[chunks];
        var bytes = new long[chunks];
        var tau = new double[chunks];
        var kappa = new double[chunks];
        var checksum = new long[chunks];
        Array.Fill(start, -1L);
        long total = 0;
        foreach (int c in present)
        {
            var record = QuantizedChunkRecord.FromBytes(log.Read(c));
            start[c] = total;
            bytes[c] = record.Blob.Length;
            tau[c] = record.TotalVariation;
            kappa[c] = record.DecodedDivergence;
            checksum[c] = QuantizedLayout.Checksum(record.Blob);
            total += record.Blob.Length;
        }

        var spec = new Hdf5FileSpec();
        var root = spec.Root;
        BaselineLogitsFile.SetProvenance(root, header, QuantizedLayout.FormatOf(settings));
        SetMapping(root, "", settings);
        if (settings.Fine is { } fine)
        {
            // A fine tier is always written with its second-knee attributes (0 when it has none), so the reader knows them all.
            SetMapping(root, QuantizedLayout.AttrFinePrefix, fine, always: true);
            root.SetAttribute(QuantizedLayout.AttrWideShare, settings.WideShare);
        }
        root.SetAttribute(QuantizedLayout.AttrTotalVariation, present.Length == 0 ? 0.0 : present.Max(c => tau[c]));
        root.SetAttribute(QuantizedLayout.AttrDivergence, present.Length == 0 ? 0.0 : present.Max(c => kappa[c]));
        root.SetAttribute(QuantizedLayout.AttrEncoding, QuantizedLayout.Encoding);
        root.SetAttribute(QuantizedLayout.AttrBound, QuantizedLayout.Bound);
        CompactFileBuild.AddChunkIndex(root, header, plan, present);
        root.AddDataset("chunk_start", H5ElementType.Int64, chunks).SetInitialData(start);
        root.AddDataset("chunk_bytes", H5ElementType.Int64, chunks).SetInitialData(bytes);
        root.AddDataset("chunk_total_variation", H5ElementType.Float64, chunks).SetInitialData(tau);
        root.AddDataset("chunk_decoded_divergence", H5ElementType.Float64, chunks).SetInitialData(kappa);
        root.AddDataset("chunk_checksum", H5ElementType.Int64, chunks).SetInitialData(checksum);
        root.AddDataset("encoded", H5ElementType.UInt8, total);

        CompactFileBuild.WriteAtomically(path, spec, (writer, layout) =>
        {
            foreach (int c in present)
                writer.Write(layout.Dataset(QuantizedLayout.Encoded), start[c], (ReadOnlySpan<byte>)QuantizedChunkRecord.FromBytes(log.Read(c)).Blob);
        });
    }

    private static void SetMapping(Hdf5GroupSpec root, string prefix, QuantizedRowSettings settings, bool always = false)
    {
        root.SetAttribute(prefix + QuantizedLayout.AttrTailMass, settings.TailMass);
        root.SetAttribute(prefix + QuantizedLayout.AttrProbabilityStep, settings.ProbabilityStep);
        root.SetAttribute(prefix + QuantizedLayout.AttrLogStep, settings.MaxLogStep);
        if (settings.HasSecondKnee || always)
        {
            root.SetAttribute(prefix + QuantizedLayout.AttrSecondKnee, settings.SecondKnee);
            root.SetAttribute(prefix + QuantizedLayout.AttrSecondLogStep, settings.SecondLogStep);
        }
    }

    /// <summary>Copies every processed chunk of a final file into a log (to add chunks to it, or to merge shards).</summary>
    public static void CopyInto(string path, CompactLog log)
    {
        using var reader = QuantizedBaselineReader.Open(path);
        for (int c = 0; c < reader.TotalChunks; c++)
            if (reader.HasChunk(c)) log.Append(c, reader.Record(c).ToBytes());
    }
}
