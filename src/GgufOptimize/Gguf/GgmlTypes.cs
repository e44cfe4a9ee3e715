using System.Diagnostics.CodeAnalysis;

namespace GgufOptimize.Gguf;

/// <summary>
/// Block size and block byte size of every ggml type, as in ggml's type_traits at llama.cpp commit c0c7e147
/// (the build bundled with LLamaSharp 0.30.0). Byte sizes follow the block structs in ggml-common.h.
/// </summary>
internal static class GgmlTypes
{
    private const int QK_K = 256;

    private static readonly GgmlTypeInfo[] Table =
    [
        new(GgmlType.F32, "F32", 1, 4, false),
        new(GgmlType.F16, "F16", 1, 2, false),
        new(GgmlType.Q4_0, "Q4_0", 32, 2 + 16, true),
        new(GgmlType.Q4_1, "Q4_1", 32, 2 * 2 + 16, true),
        new(GgmlType.Q5_0, "Q5_0", 32, 2 + 4 + 16, true),
        new(GgmlType.Q5_1, "Q5_1", 32, 2 * 2 + 4 + 16, true),
        new(GgmlType.Q8_0, "Q8_0", 32, 2 + 32, true),
        new(GgmlType.Q8_1, "Q8_1", 32, 2 * 2 + 32, true),
        new(GgmlType.Q2_K, "Q2_K", QK_K, QK_K / 16 + QK_K / 4 + 2 * 2, true),
        new(GgmlType.Q3_K, "Q3_K", QK_K, QK_K / 8 + QK_K / 4 + 12 + 2, true),
        new(GgmlType.Q4_K, "Q4_K", QK_K, 2 * 2 + 12 + QK_K / 2, true),
        new(GgmlType.Q5_K, "Q5_K", QK_K, 2 * 2 + 12 + QK_K / 8 + QK_K / 2, true),
        new(GgmlType.Q6_K, "Q6_K", QK_K, QK_K / 2 + QK_K / 4 + QK_K / 16 + 2, true),
        new(GgmlType.Q8_K, "Q8_K", QK_K, 4 + QK_K + QK_K / 16 * 2, true),
        new(GgmlType.IQ2_XXS, "IQ2_XXS", QK_K, 2 + QK_K / 8 * 2, true),
        new(GgmlType.IQ2_XS, "IQ2_XS", QK_K, 2 + QK_K / 8 * 2 + QK_K / 32, true),
        new(GgmlType.IQ3_XXS, "IQ3_XXS", QK_K, 2 + 3 * QK_K / 8, true),
        new(GgmlType.IQ1_S, "IQ1_S", QK_K, 2 + QK_K / 8 + QK_K / 32 * 2, true),
        new(GgmlType.IQ4_NL, "IQ4_NL", 32, 2 + 16, true),
        new(GgmlType.IQ3_S, "IQ3_S", QK_K, 2 + QK_K / 4 + QK_K / 32 + QK_K / 8 + QK_K / 64, true),
        new(GgmlType.IQ2_S, "IQ2_S", QK_K, 2 + QK_K / 4 + QK_K / 32 + QK_K / 32, true),
        new(GgmlType.IQ4_XS, "IQ4_XS", QK_K, 2 + 2 + QK_K / 64 + QK_K / 2, true),
        new(GgmlType.I8, "I8", 1, 1, false),
        new(GgmlType.I16, "I16", 1, 2, false),
        new(GgmlType.I32, "I32", 1, 4, false),
        new(GgmlType.I64, "I64", 1, 8, false),
        new(GgmlType.F64, "F64", 1, 8, false),
        new(GgmlType.IQ1_M, "IQ1_M", QK_K, QK_K / 8 + QK_K / 16 + QK_K / 32, true),
        new(GgmlType.BF16, "BF16", 1, 2, false),
        new(GgmlType.TQ1_0, "TQ1_0", QK_K, (QK_K - 4 * QK_K / 64) / 5 + QK_K / 64 + 2, true),
        new(GgmlType.TQ2_0, "TQ2_0", QK_K, QK_K / 4 + 2, true),
        new(GgmlType.MXFP4, "MXFP4", 32, 1 + 16, true),
    ];

    private static readonly Dictionary<GgmlType, GgmlTypeInfo> ById = Table.ToDictionary(t => t.Type);
    private static readonly Dictionary<string, GgmlTypeInfo> ByName = Table.ToDictionary(t => t.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>Every type a GGUF file may use, in id order.</summary>
    public static IReadOnlyList<GgmlTypeInfo> All => Table;

    /// <summary>The layout of <paramref name="type"/>; throws for an id that is not a known type.</summary>
    public static GgmlTypeInfo Info(GgmlType type) =>
        ById.TryGetValue(type, out var info) ? info : throw new ArgumentOutOfRangeException(nameof(type), $"unknown ggml type id {(uint)type}");

    public static bool IsKnown(uint id) => ById.ContainsKey((GgmlType)id);

    /// <summary>Looks a type up by name, case-insensitively ("q4_k", "Q4_K", "bf16").</summary>
    public static bool TryParse(string name, [NotNullWhen(true)] out GgmlTypeInfo? info) => ByName.TryGetValue(name, out info);

    public static string Name(GgmlType type) => ById.TryGetValue(type, out var info) ? info.Name : $"type{(uint)type}";

    /// <summary>Bytes of a tensor of this type with dimensions <paramref name="dims"/> (ne0 first, the row length).</summary>
    public static long TensorBytes(GgmlType type, ReadOnlySpan<long> dims)
    {
        var info = Info(type);
        long bytes = info.RowSize(dims.Length == 0 ? 1 : dims[0]);
        for (int i = 1; i < dims.Length; i++) bytes = checked(bytes * dims[i]);
        return bytes;
    }
}
