namespace GgufOptimize.Imatrix;

/// <summary>How an importance matrix is stored.</summary>
internal enum ImatrixFileFormat
{
    /// <summary>llama.cpp's current format: a GGUF file with <c>*.in_sum2</c> and <c>*.counts</c> tensors.</summary>
    Gguf,
    /// <summary>llama.cpp's legacy binary <c>.dat</c> format (per-column means scaled by the number of chunks).</summary>
    Dat,
}
