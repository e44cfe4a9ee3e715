namespace GgufOptimize.Storage.Formats;

/// <summary>
/// Where <c>logits</c> puts a baseline, whatever the format. Calls come from one thread (the background writer):
/// rows of a chunk in any order, then <see cref="MarkProcessed"/> once all of its rows are in, so a chunk is flagged
/// only after its data is written and durable.
/// </summary>
internal interface IBaselineWriter : IDisposable
{
    bool IsProcessed(int chunk);

    /// <summary>Rows [firstPosition, firstPosition + n) of <paramref name="chunk"/>, row-major n × n_vocab.</summary>
    void WriteLogits(int chunk, int firstPosition, ReadOnlySpan<float> logits);

    /// <summary>Makes the chunk's data durable, then records it as done.</summary>
    void MarkProcessed(int chunk);

    /// <summary>Gives the output its final name once every chunk of [from, to) is done; false otherwise.</summary>
    bool Complete(int from, int to);
}
