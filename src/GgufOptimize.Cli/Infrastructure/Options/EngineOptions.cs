using System.CommandLine;
using GgufOptimize.Engine;

namespace GgufOptimize.Cli.Infrastructure.Options;

/// <summary>
/// How llama.cpp runs: the same options, with llama.cpp's spellings, in every command that runs a model. The chunk,
/// batch and thread sizes come from <see cref="OptionVocabulary"/>; the model/context settings (GPU layers, mmap,
/// flash attention, cache types, RoPE) from the library's <see cref="EngineOptionTable"/>.
/// </summary>
internal sealed class EngineOptions
{
    public Option<int>? ContextSize { get; }
    public Option<int>? BatchSize { get; }
    public Option<int>? UBatchSize { get; }
    public Option<int> Threads { get; }
    /// <summary>--hf-model-config: model settings from the original model's config.json (commands that evaluate chunks).</summary>
    public Option<string?>? HfConfig { get; }
    private readonly (EngineOption Spec, Option Option)[] _native;

    private EngineOptions(bool context, bool batch, bool ubatch, int defaultThreads, bool native)
    {
        if (context && native)
            HfConfig = new Option<string?>(HfModelConfig.OptionName)
            {
                Description = "The original model's Hugging Face config.json: its max_position_embeddings, rope_theta and linear rope_scaling " +
                              "are used where the GGUF lacks or differs from them (with a warning); options given here win",
                HelpName = "FILE",
            };
        if (context) ContextSize = SharedOptions.Int(OptionVocabulary.ContextSize, 0);
        if (batch) BatchSize = SharedOptions.Int(OptionVocabulary.BatchSize, 0);
        if (ubatch) UBatchSize = SharedOptions.Int(OptionVocabulary.UBatchSize, 0);
        Threads = SharedOptions.Int(OptionVocabulary.Threads, defaultThreads);
        _native = native ? EngineOptionTable.All.Select(spec => (spec, Create(spec))).ToArray() : [];
    }

    /// <summary>Everything that evaluates chunks (logits, kld).</summary>
    public static EngineOptions Evaluation() => new(true, true, true, 0, native: true);
    /// <summary>imatrix: llama.cpp's imatrix has no separate physical batch here.</summary>
    public static EngineOptions Imatrix() => new(true, true, false, 0, native: true);
    /// <summary>tune: the context and model settings; batch and ubatch are what it searches, -t fixes the threads.</summary>
    public static EngineOptions Tuning() => new(true, false, false, 0, native: true);
    /// <summary>Commands that only load a model's tokenizer (dataset's token counting): the model settings, nothing else.</summary>
    public static EngineOptions ModelOnly() => new(false, false, false, 0, native: true);
    /// <summary>Commands that only need threads (quantize; demo, whose tiny model is fastest on one).</summary>
    public static EngineOptions ThreadsOnly(int defaultThreads = 0) => new(false, false, false, defaultThreads, native: false);

    public IEnumerable<Option> All => new Option?[] { ContextSize, BatchSize, UBatchSize }.OfType<Option>()
        .Concat(ThreadsIncluded ? [Threads] : [])
        .Concat(_native.Select(n => n.Option))
        .Concat(HfConfig is null ? [] : [HfConfig]);

    private bool ThreadsIncluded => ContextSize is not null || _native.Length == 0;

    public void AddTo(Command command)
    {
        foreach (var o in All) command.Options.Add(o);
    }

    /// <summary>The option of one engine setting, from the shared spec (a flag, a value, or -fa's optional value).</summary>
    private static Option Create(EngineOption spec)
    {
        var words = OptionVocabulary.Engine(spec);
        string description = words.Description;
        if (spec.IsFlag) return new Option<bool>(words.Name, words.Aliases) { Description = description };
        var option = new Option<string?>(words.Name, words.Aliases) { Description = description, HelpName = spec.HelpName };
        // llama.cpp's older -fa was a bare switch; a bare -fa still means on.
        if (spec == EngineOptionTable.FlashAttn) option.Arity = ArgumentArity.ZeroOrOne;
        return option;
    }

    /// <summary>
    /// The options as given; with --hf-model-config, resolved against <paramref name="modelPath"/>'s metadata (the model
    /// the command runs) and the resulting warnings written to <paramref name="progress"/>.
    /// </summary>
    public EngineArguments Read(ParseResult parse, string? modelPath = null, Common.IProgressSink? progress = null)
    {
        var settings = EngineSettings.Default;
        foreach (var (spec, option) in _native)
        {
            if (parse.GetResult(option) is not { Implicit: false }) continue;
            string text = option switch
            {
                Option<bool> flag => parse.GetValue(flag) ? "true" : "false",
                Option<string?> value => parse.GetValue(value) ?? "",
                _ => "",
            };
            settings = spec.Apply(settings, text);
        }
        var arguments = new EngineArguments(
            ContextSize is null ? 0 : parse.GetValue(ContextSize),
            BatchSize is null ? 0 : parse.GetValue(BatchSize),
            UBatchSize is null ? 0 : parse.GetValue(UBatchSize),
            ThreadsIncluded ? parse.GetValue(Threads) : 0,
            settings);
        arguments.Validate();
        if (HfConfig is not null && parse.GetValue(HfConfig) is { } config)
        {
            if (modelPath is null)
                throw Common.GgufOptimizeException.BadInput($"{HfModelConfig.OptionName} applies to a model this command runs; give the model (--model, --target-model or --baseline-model)");
            var resolved = HfModelConfig.Apply(config, modelPath, arguments.ContextSize, arguments.Engine);
            foreach (var warning in resolved.Warnings) progress?.Warn(warning);
            arguments = arguments with { Engine = resolved.Settings };
        }
        return arguments;
    }
}

/// <summary>The engine options as given (0 = let the library choose), with the model/context settings.</summary>
internal sealed record EngineArguments(int ContextSize, int BatchSize, int UBatchSize, int Threads, EngineSettings Engine)
{
    /// <summary>The same, as the library's one record for commands that pass them on whole.</summary>
    public EvaluationSettings Evaluation => new() { ContextSize = ContextSize, BatchSize = BatchSize, UBatchSize = UBatchSize, Threads = Threads, Engine = Engine };

    public void Validate()
    {
        foreach (var (value, spec) in new[] { (ContextSize, OptionVocabulary.ContextSize), (BatchSize, OptionVocabulary.BatchSize), (UBatchSize, OptionVocabulary.UBatchSize), (Threads, OptionVocabulary.Threads) })
            if (value < 0) throw Common.GgufOptimizeException.BadInput($"{spec.Name} must not be negative (got {value})");
    }
}
