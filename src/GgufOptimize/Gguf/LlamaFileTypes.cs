namespace GgufOptimize.Gguf;

/// <summary>
/// Names of llama.cpp's <c>llama_ftype</c> values, stored in a GGUF as <c>general.file_type</c>
/// (llama.h at commit c0c7e147). Names are the ones llama-quantize accepts.
/// </summary>
internal static class LlamaFileTypes
{
    private static readonly Dictionary<int, string> Names = new()
    {
        [0] = "F32",
        [1] = "F16",
        [2] = "Q4_0",
        [3] = "Q4_1",
        [7] = "Q8_0",
        [8] = "Q5_0",
        [9] = "Q5_1",
        [10] = "Q2_K",
        [11] = "Q3_K_S",
        [12] = "Q3_K_M",
        [13] = "Q3_K_L",
        [14] = "Q4_K_S",
        [15] = "Q4_K_M",
        [16] = "Q5_K_S",
        [17] = "Q5_K_M",
        [18] = "Q6_K",
        [19] = "IQ2_XXS",
        [20] = "IQ2_XS",
        [21] = "Q2_K_S",
        [22] = "IQ3_XS",
        [23] = "IQ3_XXS",
        [24] = "IQ1_S",
        [25] = "IQ4_NL",
        [26] = "IQ3_S",
        [27] = "IQ3_M",
        [28] = "IQ2_S",
        [29] = "IQ2_M",
        [30] = "IQ4_XS",
        [31] = "IQ1_M",
        [32] = "BF16",
        [36] = "TQ1_0",
        [37] = "TQ2_0",
        [38] = "MXFP4_MOE",
        [1024] = "GUESSED",
    };

    private static readonly Dictionary<string, int> Ids = Names.ToDictionary(kv => kv.Value, kv => kv.Key, StringComparer.OrdinalIgnoreCase);

    public const int AllF32 = 0;
    public const int MostlyF16 = 1;

    /// <summary>All known file types, id → name.</summary>
    public static IReadOnlyDictionary<int, string> All => Names;

    /// <summary>The name of a file type id, or null for an id llama.cpp does not define.</summary>
    public static string? Name(int id) => Names.GetValueOrDefault(id);

    public static bool TryParse(string name, out int id) => Ids.TryGetValue(name, out id);
}
