namespace GgufOptimize.Datasets.Output;

internal enum DatasetFormat
{
    /// <summary>UTF-8 text, samples separated by one blank line (the form llama.cpp's imatrix and perplexity tools read).</summary>
    Text,
    /// <summary>One JSON object per line: <c>{"text": ..., "lang": ...}</c>.</summary>
    Jsonl,
}
