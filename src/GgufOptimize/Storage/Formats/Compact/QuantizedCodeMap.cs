namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>
/// The code ↔ log-probability mapping of one <see cref="QuantizedRowSettings"/> with its constants (log knee, steps to
/// the second knee, where the Δ₂ cells start) computed once: the per-token loops of the encoder and the decoders then
/// cost a multiply-add per code instead of the logs the settings' properties take.
/// </summary>
internal readonly struct QuantizedCodeMap
{
    private readonly double _rho, _logKnee, _step, _secondBoundary, _secondStep;
    private readonly int _stepsToSecond;

    public QuantizedCodeMap(QuantizedRowSettings settings)
    {
        _rho = settings.ProbabilityStep;
        _logKnee = Math.Log(settings.Knee);
        _step = settings.MaxLogStep;
        _stepsToSecond = settings.StepsToSecondKnee;
        _secondBoundary = settings.HasSecondKnee ? settings.SecondBoundary : double.NegativeInfinity;
        _secondStep = settings.SecondLogStep;
    }

    /// <summary>The (unnormalized) log-probability a code stands for; equals <see cref="QuantizedRowSettings.Value"/>.</summary>
    public double Value(int code)
    {
        if (code > 0) return Math.Log(code * _rho);
        double s = -1 - (double)code;
        return s <= _stepsToSecond ? _logKnee - s * _step : _secondBoundary - (s - _stepsToSecond - 0.5) * _secondStep;
    }

    /// <summary>The code of a log-probability below the knee (see <see cref="QuantizedRowSettings.LogCode"/>).</summary>
    public int LogCode(double logP) => QuantizedRowSettings.LogCode(logP, _logKnee, _step, _stepsToSecond, _secondBoundary, _secondStep);
}
