using GgufOptimize.Common;
using GgufOptimize.Storage.Hdf5;

namespace GgufOptimize.Storage;

/// <summary>
/// The checks every reader of a stored file makes when it opens one, before any value is trusted: attributes within
/// sane bounds, datasets of the shapes the attributes imply, chunk lengths and token ids inside n_ctx and the
/// vocabulary. A file failing one is refused as bad input naming the file and what is wrong, so a corrupt file never
/// reaches an index out of range, an allocation of an absurd size, or llama.cpp with a token it does not have.
/// </summary>
internal static class StoredFileChecks
{
    /// <summary>Bounds far beyond any real model, small enough that products of them cannot overflow a long.</summary>
    public const long MaxContext = 1 << 22, MaxVocab = 1 << 24, MaxChunks = 1 << 26;

    /// <summary>An integer attribute within [min, max], as an int.</summary>
    public static int Bounded(string path, string attribute, long value, long min, long max)
    {
        if (value < min || value > max)
            throw GgufOptimizeException.BadInput($"'{path}': attribute {attribute} is {value}, outside {min}..{max} (the file is corrupt)");
        return (int)value;
    }

    public static int Context(string path, string attribute, long value) => Bounded(path, attribute, value, 2, MaxContext);
    public static int Vocab(string path, string attribute, long value) => Bounded(path, attribute, value, 1, MaxVocab);
    public static int Chunks(string path, string attribute, long value) => Bounded(path, attribute, value, 0, MaxChunks);

    /// <summary>The dataset exists with exactly the expected shape (and element type when given).</summary>
    public static Hdf5DatasetInfo Shape(string path, Hdf5Layout layout, string dataset, H5ElementType? type, params long[] expected)
    {
        if (!layout.TryGetDataset(dataset, out var info))
            throw GgufOptimizeException.BadInput($"'{path}' has no dataset {dataset} (the file is corrupt or not of this format)");
        if (!info.Shape.SequenceEqual(expected))
            throw GgufOptimizeException.BadInput($"'{path}': dataset {dataset} has shape [{string.Join(", ", info.Shape)}], but the attributes say [{string.Join(", ", expected)}] (the file is corrupt)");
        if (type is { } t && info.Type != t)
            throw GgufOptimizeException.BadInput($"'{path}': dataset {dataset} holds {info.Type}, expected {t} (the file is corrupt)");
        return info;
    }

    /// <summary>The dataset exists with exactly the expected shape and holds elements read as <typeparamref name="T"/>.</summary>
    public static Hdf5DatasetInfo Shape<T>(string path, Hdf5Layout layout, string dataset, params long[] expected) where T : unmanaged
    {
        var info = Shape(path, layout, dataset, null, expected);
        if (!info.Type.Accepts<T>())
            throw GgufOptimizeException.BadInput($"'{path}': dataset {dataset} holds {info.Type}, expected {typeof(T).Name} elements (the file is corrupt)");
        return info;
    }

    /// <summary>Every processed chunk's length is 1..n_ctx.</summary>
    public static void Lengths(string path, ReadOnlySpan<int> lengths, Func<int, bool> processed, int contextSize)
    {
        for (int c = 0; c < lengths.Length; c++)
            if (processed(c) && (lengths[c] < 1 || lengths[c] > contextSize))
                throw GgufOptimizeException.BadInput($"'{path}': chunk_lengths[{c}] is {lengths[c]}, outside 1..n_ctx {contextSize} (the file is corrupt)");
    }

    /// <summary>Every token of every processed chunk (row c of [chunks, n_ctx], first lengths[c]) is a valid id of the vocabulary.</summary>
    public static void Tokens(string path, ReadOnlySpan<int> tokens, ReadOnlySpan<int> lengths, Func<int, bool> processed, int contextSize, int vocabSize)
    {
        for (int c = 0; c < lengths.Length; c++)
        {
            if (!processed(c)) continue;
            var row = tokens.Slice(checked(c * contextSize), lengths[c]);
            for (int j = 0; j < row.Length; j++)
                if ((uint)row[j] >= (uint)vocabSize)
                    throw GgufOptimizeException.BadInput($"'{path}': token {j} of chunk {c} is id {row[j]}, outside the vocabulary of {vocabSize} tokens (the file is corrupt; llama.cpp would be handed an id it does not have)");
        }
    }
}
