using GgufOptimize.Common;
using GgufOptimize.Engine;

namespace GgufOptimize.Quantization;

/// <summary>
/// The ggml tensor types of the loaded llama.cpp, by the names it logs and accepts ("q4_K", "f16"), with
/// their block layout. Asked of the library itself so plans agree with what it will do.
/// </summary>
internal static class TensorTypeCatalog
{
    private sealed record Entry(int Id, string Name, long BlockSize, long TypeSize);

    private static readonly Lazy<Entry[]> Entries = new(Load);
    private static readonly Lazy<Dictionary<string, Entry>> ByName =
        new(() => Entries.Value.ToDictionary(e => e.Name, StringComparer.OrdinalIgnoreCase));

    private static Entry[] Load()
    {
        var list = new List<Entry>();
        for (int id = 0; id < NativeQuantizer.GgmlTypeCount; id++)
        {
            string? name = NativeQuantizer.TypeName(id);
            if (name is null) continue;
            var (block, size) = NativeQuantizer.TypeLayout(id);
            if (block <= 0 || size <= 0) continue; // removed types keep a placeholder name
            list.Add(new Entry(id, name.ToUpperInvariant(), block, size));
        }
        return list.ToArray();
    }

    public static bool TryParse(string name, out int id)
    {
        id = ByName.Value.TryGetValue(name.Trim(), out var e) ? e.Id : -1;
        return id >= 0;
    }

    /// <summary>A type given by the user (<paramref name="option"/> names where); unknown names are bad input.</summary>
    public static int Parse(string name, string option)
    {
        if (TryParse(name, out int id)) return id;
        throw GgufOptimizeException.BadInput($"{option}: unknown tensor type '{name}'; known: {string.Join(", ", Entries.Value.Select(e => e.Name))}");
    }

    public static string Name(int id) => Find(id)?.Name ?? $"type{id}";

    public static long BlockSize(int id) => Find(id)?.BlockSize ?? throw new ArgumentOutOfRangeException(nameof(id));

    public static bool Fits(int id, long rowLength) => rowLength % BlockSize(id) == 0;

    public static double BitsPerWeight(int id)
    {
        var e = Find(id) ?? throw new ArgumentOutOfRangeException(nameof(id));
        return e.TypeSize * 8.0 / e.BlockSize;
    }

    /// <summary>Bytes of a tensor of type <paramref name="id"/> with these dimensions (ne0 first).</summary>
    public static long TensorBytes(int id, IReadOnlyList<long> dims)
    {
        var e = Find(id) ?? throw new ArgumentOutOfRangeException(nameof(id));
        long rows = 1;
        for (int i = 1; i < dims.Count; i++) rows *= dims[i];
        long ne0 = dims.Count > 0 ? dims[0] : 1;
        return rows * (ne0 / e.BlockSize) * e.TypeSize;
    }

    private static Entry? Find(int id) => Entries.Value.FirstOrDefault(e => e.Id == id);
}
