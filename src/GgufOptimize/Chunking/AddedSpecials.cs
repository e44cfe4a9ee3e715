namespace GgufOptimize.Chunking;

/// <summary>
/// The special tokens a model adds around text (<c>tokenizer.ggml.add_bos_token</c> / <c>add_eos_token</c>): the token
/// id when it is added, null when it is not. What chunk rules need from a model, without the model.
/// </summary>
internal sealed record AddedSpecials(int? Bos, int? Eos);
