namespace GgufOptimize.Datasets.Sources.HuggingFace;

/// <summary>One entry of the datasets-server Parquet listing. <see cref="Size"/> is 0 when the listing omits it.</summary>
internal sealed record HfParquetFile(string Dataset, string Config, string Split, string Url, string Filename, long Size);
