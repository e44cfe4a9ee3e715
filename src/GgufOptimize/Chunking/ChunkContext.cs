using GgufOptimize.Common;

namespace GgufOptimize.Chunking;

/// <summary>Tokens per chunk for <c>logits</c>, <c>kld</c> and <c>iterate</c>, from the option and the model's training context.</summary>
internal static class ChunkContext
{
    /// <summary>The default chunk length is the training context, capped here (larger contexts cost memory for little gain).</summary>
    public const int MaxDefault = 4096;

    /// <summary>0 = the training context capped at <see cref="MaxDefault"/> (with a warning); larger than trained is refused.</summary>
    public static int Resolve(int requested, int trainContext, IProgressSink progress)
    {
        if (requested < 0) throw GgufOptimizeException.BadInput($"--context-size must be positive (got {requested})");
        if (requested == 0)
        {
            if (trainContext > MaxDefault)
            {
                progress.Warn($"the model's training context {trainContext} is capped to {MaxDefault} tokens per chunk (set --context-size to choose)");
                return MaxDefault;
            }
            return trainContext;
        }
        if (requested > trainContext)
            throw GgufOptimizeException.BadInput($"--context-size {requested} is larger than the model's training context {trainContext}");
        return requested;
    }
}
