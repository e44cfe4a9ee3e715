using System.CommandLine;

namespace GgufOptimize.Cli.Infrastructure.Options;

/// <summary>How llama.cpp runs: the same options, with llama.cpp's short spellings, in every command that runs a model.</summary>
internal sealed class EngineOptions
{
    public Option<int>? ContextSize { get; }
    public Option<int>? BatchSize { get; }
    public Option<int>? UBatchSize { get; }
    public Option<int> Threads { get; }

    private EngineOptions(bool context, bool batch, bool ubatch, int defaultThreads)
    {
        if (context) ContextSize = SharedOptions.Int(OptionVocabulary.ContextSize, 0);
        if (batch) BatchSize = SharedOptions.Int(OptionVocabulary.BatchSize, 0);
        if (ubatch) UBatchSize = SharedOptions.Int(OptionVocabulary.UBatchSize, 0);
        Threads = SharedOptions.Int(OptionVocabulary.Threads, defaultThreads);
    }

    /// <summary>Everything that evaluates chunks (logits, kld).</summary>
    public static EngineOptions Evaluation() => new(true, true, true, 0);
    /// <summary>imatrix: llama.cpp's imatrix has no separate physical batch here.</summary>
    public static EngineOptions Imatrix() => new(true, true, false, 0);
    /// <summary>Commands that only need threads (quantize; demo, whose tiny model is fastest on one).</summary>
    public static EngineOptions ThreadsOnly(int defaultThreads = 0) => new(false, false, false, defaultThreads);

    public IEnumerable<Option> All => new Option?[] { ContextSize, BatchSize, UBatchSize, Threads }.OfType<Option>();

    public void AddTo(Command command)
    {
        foreach (var o in All) command.Options.Add(o);
    }

    public EngineSettings Read(ParseResult parse)
    {
        var settings = new EngineSettings(
            ContextSize is null ? 0 : parse.GetValue(ContextSize),
            BatchSize is null ? 0 : parse.GetValue(BatchSize),
            UBatchSize is null ? 0 : parse.GetValue(UBatchSize),
            parse.GetValue(Threads));
        settings.Validate();
        return settings;
    }
}

/// <summary>The engine settings as given (0 = let the library choose).</summary>
internal sealed record EngineSettings(int ContextSize, int BatchSize, int UBatchSize, int Threads)
{
    public void Validate()
    {
        foreach (var (value, spec) in new[] { (ContextSize, OptionVocabulary.ContextSize), (BatchSize, OptionVocabulary.BatchSize), (UBatchSize, OptionVocabulary.UBatchSize), (Threads, OptionVocabulary.Threads) })
            if (value < 0) throw Common.GgufOptimizeException.BadInput($"{spec.Name} must not be negative (got {value})");
    }
}
