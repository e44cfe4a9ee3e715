using System.Globalization;

namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>
/// How finely the quantized compact encoding stores a row. Tokens outside the kept set hold at most
/// <see cref="TailMass"/> ε together. A kept token's probability P is stored as round(P/ρ)·ρ while P ≥ ρ/Δ (an
/// absolute step ρ = <see cref="ProbabilityStep"/>: a relative step ρ/P that grows as P shrinks), and below that as its
/// log-probability rounded to steps of Δ = <see cref="MaxLogStep"/> nats. The first-order KLD error of a change δ_i in
/// log P_i is Σ P_i·δ_i·(log(P_i/Q_i) − KLD), so a token's share of it scales with P_i·δ_i ≤ ρ/2: tokens that carry
/// little probability may be stored coarsely.
/// </summary>
internal sealed record QuantizedRowSettings(double TailMass, double ProbabilityStep, double MaxLogStep)
{
    public static readonly QuantizedRowSettings Default = new(1e-4, 1e-6, 0.05);

    /// <summary>Probability below which the log-domain step takes over.</summary>
    public double Knee => ProbabilityStep / MaxLogStep;
    private double LogKnee => Math.Log(Knee);

    /// <summary>What is wrong with these settings, or null.</summary>
    public string? Problem()
    {
        if (!(TailMass > 0 && TailMass < 1)) return $"tail mass must be in (0, 1) (got {TailMass.ToString(CultureInfo.InvariantCulture)})";
        if (!(ProbabilityStep > 0 && ProbabilityStep < 1) || 1 / ProbabilityStep > int.MaxValue) return $"probability step must be in [2^-31, 1) (got {ProbabilityStep.ToString(CultureInfo.InvariantCulture)})";
        if (!(MaxLogStep > 0 && MaxLogStep <= 1)) return $"log step must be in (0, 1] (got {MaxLogStep.ToString(CultureInfo.InvariantCulture)})";
        return null;
    }

    public void Validate()
    {
        if (!(TailMass > 0 && TailMass < 1)) throw new ArgumentOutOfRangeException(nameof(TailMass), TailMass, "tail mass must be in (0, 1)");
        if (!(ProbabilityStep > 0 && ProbabilityStep < 1)) throw new ArgumentOutOfRangeException(nameof(ProbabilityStep), ProbabilityStep, "probability step must be in (0, 1)");
        if (!(MaxLogStep > 0 && MaxLogStep <= 1)) throw new ArgumentOutOfRangeException(nameof(MaxLogStep), MaxLogStep, "log step must be in (0, 1]");
        if (1 / ProbabilityStep > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(ProbabilityStep), ProbabilityStep, "probability step must be at least 1/2^31");
    }

    /// <summary>The integer stored for log-probability <paramref name="logP"/>: positive = P in steps of ρ, negative = steps of Δ below the knee.</summary>
    public int Code(double logP)
    {
        double p = Math.Exp(logP);
        if (p >= Knee) return (int)Math.Max(1, Math.Round(p / ProbabilityStep));
        double steps = Math.Round((LogKnee - logP) / MaxLogStep);
        return -1 - (int)Math.Min(steps, int.MaxValue - 1);
    }

    /// <summary>
    /// How far the exact log-probability can lie from the value of its code: ≤ Δ/2 below the knee; above it
    /// |log(1 ± ρ/(2P))| with ρ/P ≤ Δ ≤ 1, which is below Δ.
    /// </summary>
    public double MaxLogError => MaxLogStep;

    /// <summary>The (unnormalized) log-probability a code stands for.</summary>
    public double Value(int code) => code > 0 ? Math.Log(code * ProbabilityStep) : LogKnee - (-1 - (double)code) * MaxLogStep;

    public string Describe() => string.Create(CultureInfo.InvariantCulture, $"ε {TailMass:G3}, ρ {ProbabilityStep:G3}, Δ {MaxLogStep:G3}");
}
