namespace GgufOptimize.Datasets.Selection;

/// <summary>Counts the tokens a model's tokenizer makes of a text (no BOS/EOS), for <c>--num-tokens</c> and manifests.</summary>
internal interface ITokenCounter
{
    /// <summary>Names the tokenizer in manifests and selection fingerprints (model file name and size).</summary>
    string Identity { get; }
    int CountTokens(string text);
}
