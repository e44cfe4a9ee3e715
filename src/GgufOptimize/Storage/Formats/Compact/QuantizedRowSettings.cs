using System.Globalization;

namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>
/// How finely the quantized compact encoding stores a row. Tokens outside the kept set hold at most
/// <see cref="TailMass"/> ε together. A kept token's probability P is stored as round(P/ρ)·ρ while P ≥ ρ/Δ (an
/// absolute step ρ = <see cref="ProbabilityStep"/>: a relative step ρ/P that grows as P shrinks), and below that as its
/// log-probability rounded to steps of Δ = <see cref="MaxLogStep"/> nats. The first-order KLD error of a change δ_i in
/// log P_i is Σ P_i·δ_i·(log(P_i/Q_i) − KLD), so a token's share of it scales with P_i·δ_i ≤ ρ/2: tokens that carry
/// little probability may be stored coarsely. Optionally (compact-3) a second knee <see cref="SecondKnee"/> below which
/// the log step is the coarser Δ₂ = <see cref="SecondLogStep"/>: the many tokens of a high-entropy row that each hold
/// less than the second knee then cost a few bits each (their rounding errors are independent and mostly cancel; the
/// bound accounts for the larger step).
/// Optionally (compact-4) a <see cref="Fine"/> tier: a second, finer mapping (its own ε, ρ, Δ, Δ₂) for the wide rows of
/// a chunk whose rows are mostly wide (<see cref="QuantizedTierRule"/>); every row then records which tier coded it.
/// </summary>
internal sealed record QuantizedRowSettings(double TailMass, double ProbabilityStep, double MaxLogStep, double SecondKnee = 0, double SecondLogStep = 0)
{
    /// <summary>compact-4: the mapping of the rows <see cref="QuantizedTierRule"/> refines (null: one mapping for every row, compact-2/3).</summary>
    public QuantizedRowSettings? Fine { get; init; }

    /// <summary>compact-4: a row is wide when the coarse selection keeps at least this share of the vocabulary.</summary>
    public double WideShare { get; init; }

    /// <summary>The compact-2 mapping (no second knee), the default before issue 13's size work.</summary>
    public static readonly QuantizedRowSettings Compact2 = new(1e-4, 1e-6, 0.05);
    /// <summary>
    /// compact-3's default: ε 3e-4, ρ 4e-6, Δ 0.2 (knee 2e-5), Δ₂ 1 nat below 1e-6. On the realistic 128k and 262k models
    /// (qcompact, BENCHMARKS.md) 1.9 % of llama.cpp's .kld, every statistic of Q4_0 … Q2_K targets within 0.097 % of
    /// float32's (the second knee at 4e-6 was 4 % smaller but let 262k's Q4_0 reach 0.118 %).
    /// </summary>
    public static readonly QuantizedRowSettings Compact3 = new(3e-4, 4e-6, 0.2, 1e-6, 1.0);

    /// <summary>
    /// The fine tier of compact-4's default: ε 1e-5, ρ 1e-6, Δ 0.05, Δ₂ 0.5 below 1e-7. On the flat 32k model (every row
    /// wide) it took the worst statistic of Q8_0 from 0.27 % to 0.06 % of float32's and of Q4_K_M … Q2_K to ≤ 0.02 %, at
    /// 31 KB per position (float16: 64 KB); see BENCHMARKS.md.
    /// </summary>
    public static readonly QuantizedRowSettings FineTier = new(1e-5, 1e-6, 0.05, 1e-7, 0.5);

    /// <summary>
    /// compact-4's default (what <c>logits --format compact</c> writes): compact-3's mapping, and <see cref="FineTier"/> for
    /// a row that keeps ≥ 20 % of the vocabulary in a chunk where such rows are the majority so far. On the flat 32k model
    /// 97 % of rows keep ≥ 20 %; on the realistic 32k/128k models 19 %/6 % do (qanatomy --shape 1), so a realistic chunk
    /// almost never switches.
    /// </summary>
    public static readonly QuantizedRowSettings Default = Compact3 with { Fine = FineTier, WideShare = 0.2 };

    /// <summary>Whether rows carry a tier byte and may be coded with <see cref="Fine"/> (compact-4).</summary>
    public bool HasTiers => Fine is not null;

    /// <summary>Whether every sparse and every-code row ends with its D (compact-3 and compact-4).</summary>
    public bool HasCorrection => HasSecondKnee || HasTiers;

    /// <summary>The mapping of tier <paramref name="tier"/> (0 coarse, 1 fine).</summary>
    public QuantizedRowSettings Tier(int tier) => tier == 0 ? this : Fine ?? throw new ArgumentOutOfRangeException(nameof(tier), tier, "these settings have one tier");

    /// <summary>The largest tail mass any row may leave (the bound's ε).</summary>
    public double MaxTailMass => Math.Max(TailMass, Fine?.TailMass ?? 0);

    /// <summary>Whether the mapping has a second knee (written as compact-3; compact-2 readers would misread it).</summary>
    public bool HasSecondKnee => SecondKnee > 0;

    /// <summary>Log-domain steps of Δ from the knee to the second knee (the second knee snapped to that grid).</summary>
    public int StepsToSecondKnee => HasSecondKnee ? (int)Math.Round((LogKnee - Math.Log(SecondKnee)) / MaxLogStep) : int.MaxValue;

    /// <summary>Where the Δ₂ cells start: half a Δ step below the snapped second knee.</summary>
    public double SecondBoundary => LogKnee - (StepsToSecondKnee + 0.5) * MaxLogStep;

    /// <summary>Probability below which the log-domain step takes over.</summary>
    public double Knee => ProbabilityStep / MaxLogStep;
    private double LogKnee => Math.Log(Knee);

    /// <summary>What is wrong with these settings, or null.</summary>
    public string? Problem()
    {
        if (!(TailMass > 0 && TailMass < 1)) return $"tail mass must be in (0, 1) (got {TailMass.ToString(CultureInfo.InvariantCulture)})";
        if (!(ProbabilityStep > 0 && ProbabilityStep < 1) || 1 / ProbabilityStep > int.MaxValue) return $"probability step must be in [2^-31, 1) (got {ProbabilityStep.ToString(CultureInfo.InvariantCulture)})";
        if (!(MaxLogStep > 0 && MaxLogStep <= 1)) return $"log step must be in (0, 1] (got {MaxLogStep.ToString(CultureInfo.InvariantCulture)})";
        if (Fine is { } fine)
        {
            if (fine.Fine is not null) return "the fine tier cannot have a tier of its own";
            if (fine.Problem() is { } problem) return $"fine tier: {problem}";
            if (!(WideShare > 0 && WideShare <= 1)) return $"wide share must be in (0, 1] (got {WideShare.ToString(CultureInfo.InvariantCulture)})";
        }
        else if (WideShare != 0) return "a wide share without a fine tier";
        if (SecondKnee == 0 && SecondLogStep == 0) return null;
        if (!(SecondKnee > 0 && SecondKnee < Knee && StepsToSecondKnee < 100_000)) return $"second knee must be in (0, {Knee.ToString(CultureInfo.InvariantCulture)}) and at most 100,000 log steps below the knee (got {SecondKnee.ToString(CultureInfo.InvariantCulture)})";
        if (!(SecondLogStep >= MaxLogStep && SecondLogStep <= 4)) return $"second log step must be in [log step, 4] (got {SecondLogStep.ToString(CultureInfo.InvariantCulture)})";
        return null;
    }

    public void Validate()
    {
        if (!(TailMass > 0 && TailMass < 1)) throw new ArgumentOutOfRangeException(nameof(TailMass), TailMass, "tail mass must be in (0, 1)");
        if (!(ProbabilityStep > 0 && ProbabilityStep < 1)) throw new ArgumentOutOfRangeException(nameof(ProbabilityStep), ProbabilityStep, "probability step must be in (0, 1)");
        if (!(MaxLogStep > 0 && MaxLogStep <= 1)) throw new ArgumentOutOfRangeException(nameof(MaxLogStep), MaxLogStep, "log step must be in (0, 1]");
        if (1 / ProbabilityStep > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(ProbabilityStep), ProbabilityStep, "probability step must be at least 1/2^31");
        if (Problem() is { } problem) throw new ArgumentOutOfRangeException(nameof(SecondKnee), SecondKnee, problem);
    }

    /// <summary>The integer stored for log-probability <paramref name="logP"/>: positive = P in steps of ρ, negative = steps of Δ below the knee.</summary>
    public int Code(double logP)
    {
        double p = Math.Exp(logP);
        if (p >= Knee) return (int)Math.Max(1, Math.Round(p / ProbabilityStep));
        return LogCode(logP, LogKnee, MaxLogStep, StepsToSecondKnee, SecondBoundary, SecondLogStep);
    }

    /// <summary>
    /// The code of a log-probability below the knee: −1 − s with s the number of Δ steps below the knee, or past the
    /// second knee N₁ Δ steps plus the Δ₂ cell (cells of width Δ₂ from <paramref name="secondBoundary"/> down, each
    /// standing for its centre). Arguments hoisted so the encoder's loop computes no log.
    /// </summary>
    public static int LogCode(double logP, double logKnee, double step, int stepsToSecond, double secondBoundary, double secondStep)
    {
        if (logP >= secondBoundary || stepsToSecond == int.MaxValue)
        {
            double steps = Math.Round((logKnee - logP) / step);
            return -1 - (int)Math.Min(steps, int.MaxValue - 1);
        }
        double cell = Math.Floor((secondBoundary - logP) / secondStep) + 1;
        return -1 - (int)Math.Min(stepsToSecond + cell, int.MaxValue - 1);
    }

    /// <summary>
    /// How far the exact log-probability can lie from the value of its code: ≤ Δ/2 below the knee (≤ Δ₂/2 below the
    /// second knee); above it |log(1 ± ρ/(2P))| with ρ/P ≤ Δ ≤ 1, which is below Δ.
    /// </summary>
    public double MaxLogError => Math.Max(MaxLogStep, SecondLogStep);

    /// <summary>The (unnormalized) log-probability a code stands for (per-token loops use <see cref="QuantizedCodeMap"/>, the same values with the logs hoisted).</summary>
    public double Value(int code)
    {
        if (code > 0) return Math.Log(code * ProbabilityStep);
        double s = -1 - (double)code;
        int n1 = StepsToSecondKnee;
        return s <= n1 ? LogKnee - s * MaxLogStep : SecondBoundary - (s - n1 - 0.5) * SecondLogStep;
    }

    public string Describe() => (HasSecondKnee
        ? string.Create(CultureInfo.InvariantCulture, $"ε {TailMass:G3}, ρ {ProbabilityStep:G3}, Δ {MaxLogStep:G3}, Δ₂ {SecondLogStep:G3} below {SecondKnee:G3}")
        : string.Create(CultureInfo.InvariantCulture, $"ε {TailMass:G3}, ρ {ProbabilityStep:G3}, Δ {MaxLogStep:G3}"))
        + (Fine is { } fine ? string.Create(CultureInfo.InvariantCulture, $"; rows keeping ≥ {WideShare:G3} of the vocabulary in mostly such chunks: {fine.Describe()}") : "");
}
