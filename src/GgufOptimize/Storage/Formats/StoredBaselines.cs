using GgufOptimize.Chunking;
using GgufOptimize.Common;
using GgufOptimize.Storage.Formats.Compact;
using GgufOptimize.Storage.Formats.LlamaCpp;
using GgufOptimize.Storage.Hdf5;

namespace GgufOptimize.Storage.Formats;

/// <summary>
/// What a foreign baseline needs to be opened, from the model that will be evaluated on it (Storage runs no model
/// and tokenizes nothing): for a llama.cpp file, whether that model adds BOS; for a Python-tool file, its chunks.
/// </summary>
internal sealed record BaselineOpenContext
{
    /// <summary>Needed for llama.cpp files: the specials the evaluating model adds (its BOS replaces each chunk's first token).</summary>
    public AddedSpecials? Specials { get; init; }
    /// <summary>For Python-tool files (they store no tokens): the chunks for the file's n_ctx, rebuilt from its dataset.</summary>
    public Func<int, PythonToolChunks>? PythonToolChunks { get; init; }
}

/// <summary>Stored full logits of a target: the rows, their provenance when recorded, and what identifies them.</summary>
internal sealed record StoredTarget(ILogitsSource Rows, BaselineHeader? Header, string Identity);

/// <summary>
/// Opens any stored logits file by its content: ours (full, compressed or compact HDF5), llama.cpp's .kld, or
/// llama-gguf-optimize's HDF5. Every reader of a baseline goes through here.
/// </summary>
internal static class StoredBaselines
{
    private static ReadOnlySpan<byte> Hdf5Signature => [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>The kind of file at <paramref name="path"/>; a missing or unrecognized file is a BadInput error naming it.</summary>
    public static StoredLogitsKind Detect(string path)
    {
        RequireExists(path);
        Span<byte> head = stackalloc byte[8];
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            if (stream.Read(head) < 8) throw GgufOptimizeException.BadInput($"'{path}' is too short to be a logits file");
        }
        if (head.SequenceEqual(LlamaCppKldLayout.Magic)) return StoredLogitsKind.LlamaCpp;
        if (!head.SequenceEqual(Hdf5Signature))
            throw GgufOptimizeException.BadInput($"'{path}' is neither HDF5 nor a llama.cpp .kld file");
        Hdf5Layout layout;
        try
        {
            layout = Hdf5ContiguousFile.Open(path);
        }
        catch (GgufOptimizeException)
        {
            // Chunked or compressed storage: ours with --compression gzip, or the Python tool's (PureHDF decides).
            return PureHdfLogitsReader.PeekKind(path);
        }
        layout.Root.TryGetAttribute<string>(BaselineLayout.AttrFormat, out var format);
        return format switch
        {
            BaselineLayout.FormatName => StoredLogitsKind.Full,
            CompactLayout.FormatName => StoredLogitsKind.Compact,
            QuantizedLayout.FormatName or QuantizedLayout.FormatName3 or QuantizedLayout.FormatName4 => StoredLogitsKind.QuantizedCompact,
            _ when layout.TryGetDataset("logits", out _) => StoredLogitsKind.PythonTool,
            _ => throw GgufOptimizeException.BadInput($"'{path}' is an HDF5 file without logits (format attribute {(format is null ? "missing" : $"'{format}'")})"),
        };
    }

    /// <summary>Opens a baseline of any kind for <c>kld</c>.</summary>
    public static IStoredBaseline OpenBaseline(string path, BaselineOpenContext context)
    {
        switch (Detect(path))
        {
            case StoredLogitsKind.Full:
            {
                var reader = BaselineLogitsReader.Open(path);
                return new FullRowsBaseline(reader, StoredLogitsKind.Full, reader.Header, FullIdentity(reader.Header), reader.ProcessedCount);
            }
            case StoredLogitsKind.Compact:
                return CompactBaselineReader.Open(path);
            case StoredLogitsKind.QuantizedCompact:
                return QuantizedBaselineReader.Open(path);
            case StoredLogitsKind.LlamaCpp:
            {
                if (context.Specials is not { } specials) throw GgufOptimizeException.BadInput($"baseline '{path}' is a llama.cpp .kld file: compare it with --target-model (its tokens are evaluated as llama-perplexity does)");
                return LlamaCppKldReader.Open(path, specials.Bos);
            }
            default:
            {
                var reader = OpenRows(path, context);
                string identity = reader.Header is { } h ? FullIdentity(h) : ForeignIdentity(path, reader);
                return new FullRowsBaseline(reader, reader.Kind, reader.Header, identity, reader.ProcessedCount);
            }
        }
    }

    /// <summary>Opens stored logits with full rows (a target of <c>kld</c>): ours, compressed ours, or the Python tool's.</summary>
    public static StoredTarget OpenTarget(string path)
    {
        var kind = Detect(path);
        if (kind == StoredLogitsKind.Full)
        {
            var ours = BaselineLogitsReader.Open(path);
            return new StoredTarget(ours, ours.Header, $"logits of {ours.Header.Model.Sha256}, f{ours.Header.Precision}");
        }
        return kind switch
        {
            StoredLogitsKind.Compact or StoredLogitsKind.QuantizedCompact or StoredLogitsKind.LlamaCpp => throw GgufOptimizeException.BadInput(
                $"'{path}' is a {(kind == StoredLogitsKind.LlamaCpp ? "llama.cpp .kld" : "compact")} baseline, which holds only log-probabilities of a baseline: a target must be a model (--target-model) or full logits"),
            StoredLogitsKind.PythonTool => throw GgufOptimizeException.BadInput(
                $"'{path}' was written by llama-gguf-optimize: its chunks follow another rule (BOS + n_ctx−2 text tokens + EOS) and it stores no tokens, so they cannot be proven to match the baseline's chunks; give it as --baseline-logits (with --dataset), or compare its model with --target-model"),
            _ => Target(OpenRows(path, new BaselineOpenContext())),
        };
    }

    private static StoredTarget Target(PureHdfLogitsReader reader) =>
        new(reader, reader.Header, reader.Header is { } h ? $"logits of {h.Model.Sha256}, f{h.Precision}" : ForeignIdentity(reader.Path, reader));

    private static PureHdfLogitsReader OpenRows(string path, BaselineOpenContext context)
    {
        var chunks = context.PythonToolChunks?.Invoke(PureHdfLogitsReader.ReadContextSize(path));
        return PureHdfLogitsReader.Open(path, chunks);
    }

    internal static string FullIdentity(BaselineHeader h) =>
        $"logits of {h.Model.Sha256} on {h.DatasetSha256}, n_ctx {h.ContextSize}, f{h.Precision}";

    private static string ForeignIdentity(string path, PureHdfLogitsReader reader)
    {
        var info = new FileInfo(path);
        return $"{reader.Origin}, n_ctx {reader.ContextSize}, n_vocab {reader.VocabSize}, {reader.ProcessedCount} of {reader.TotalChunks} chunks, {info.Length} bytes, modified {info.LastWriteTimeUtc:O}";
    }

    private static void RequireExists(string path)
    {
        if (File.Exists(path)) return;
        string partial = BaselineLayout.PartialPath(path);
        throw GgufOptimizeException.BadInput(File.Exists(partial)
            ? $"baseline logits '{path}' is not finished (only '{partial}' exists); run the same logits command again to complete it"
            : $"baseline logits '{path}' does not exist");
    }
}
