namespace GgufOptimize.Workflow;

/// <summary>How subset sizes of the calibration data are counted.</summary>
internal enum CalibrationUnit
{
    /// <summary>Samples (paragraphs of a text file, records of a dataset), selected by the dataset builder.</summary>
    Samples,
    /// <summary>Text tokens of the calibration file, rounded up to whole chunks.</summary>
    Tokens,
    /// <summary>Chunks of the calibration file (one chunk = one context window).</summary>
    Chunks,
}

/// <summary>
/// Everything <c>iterate</c> needs: the baseline model, the evaluation text (or its stored logits), the calibration
/// source with growing subset sizes, the quantization types, and the stopping rule. Paths are as given (relative to
/// the working folder, or to the plan file's folder when they came from a plan file).
/// </summary>
internal sealed record IterationPlan
{
    /// <summary>The unquantized model (F32/F16/BF16 GGUF): the baseline and the input of every quantization.</summary>
    public string? Model { get; init; }
    /// <summary>Evaluation text (UTF-8); the baseline logits are computed on it once.</summary>
    public string? Dataset { get; init; }
    /// <summary>Stored baseline logits to reuse instead of computing them (must come from <see cref="Model"/>).</summary>
    public string? BaselineLogits { get; init; }
    /// <summary>Calibration source: a text file, or a dataset source such as <c>jsonl:data.jsonl</c>.</summary>
    public string? Calibration { get; init; }
    public CalibrationUnit CalibrationUnit { get; init; } = CalibrationUnit.Samples;
    /// <summary>Growing subset sizes, strictly increasing, in <see cref="CalibrationUnit"/>.</summary>
    public IReadOnlyList<long> SubsetSizes { get; init; } = [];
    /// <summary>Languages to balance when selecting samples (dataset sources with a language field).</summary>
    public IReadOnlyList<string>? CalibrationLanguages { get; init; }
    public string CalibrationTextField { get; init; } = "text";
    public string? CalibrationLanguageField { get; init; }
    /// <summary>Shuffle samples before taking the subsets (seeded by <see cref="CalibrationSeed"/>).</summary>
    public bool CalibrationShuffle { get; init; }
    public long CalibrationSeed { get; init; }
    /// <summary>Quantization types as llama-quantize names them (Q4_0, Q4_K_M, ...).</summary>
    public IReadOnlyList<string> Types { get; init; } = [];
    /// <summary>Tokens per chunk, for the evaluation and the imatrix; 0 = the model's training context (capped at 4096).</summary>
    public int ContextSize { get; init; }
    /// <summary>Compare at most this many chunks of the evaluation text; 0 = all.</summary>
    public int EvalChunks { get; init; }
    /// <summary>Score only positions ≥ this within each chunk.</summary>
    public int SkipFirst { get; init; }
    /// <summary>Stop adding calibration data when the relative Score improvement is below this.</summary>
    public double MinImprovement { get; init; } = 0.01;
    /// <summary>Confidence of the paired bootstrap intervals (and of early stopping).</summary>
    public double Confidence { get; init; } = 0.95;
    public int Resamples { get; init; } = Metrics.BootstrapOptions.DefaultResamples;
    public ulong Seed { get; init; } = 20240607;
    /// <summary>Run the first comparison with the bench's early stopping and limit every later one to the chunks it needed.</summary>
    public bool EarlyStopping { get; init; }
    public double MarginOfError { get; init; } = 0.05;
    public int MinChunks { get; init; } = Metrics.EarlyStoppingOptions.DefaultMinChunks;
    /// <summary>Output folder: every artifact, the state file and the report.</summary>
    public string? Output { get; init; } = "iterate-output";
    /// <summary>Stem of the quantized files' names; null = from the model file name.</summary>
    public string? Name { get; init; }
    public int Threads { get; init; }
    /// <summary>
    /// The original model's Hugging Face config.json (--hf-model-config): its context and RoPE settings replace the GGUF's
    /// where they differ, unless context_size or a RoPE key is set.
    /// </summary>
    public string? HfConfig { get; init; }
    /// <summary>GPU placement, memory mapping, attention, cache types and RoPE (llama.cpp's defaults unless given).</summary>
    public GgufOptimize.Engine.EngineSettings Engine { get; init; } = GgufOptimize.Engine.EngineSettings.Default;
}
