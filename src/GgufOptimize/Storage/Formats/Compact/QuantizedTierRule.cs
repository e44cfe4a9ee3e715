namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>
/// compact-4's per-row choice of mapping. A row is *wide* when the coarse selection keeps at least
/// <see cref="QuantizedRowSettings.WideShare"/> of the vocabulary; it is coded with the fine tier when it is wide and at
/// least half of its chunk's rows so far (itself included) were wide. Why the chunk: the statistics (mean, quantiles) are
/// made of the bulk of the positions. Where wide rows are the bulk — a flat model — every one of them carries its coding
/// noise into each statistic, and a flat model's small KLDs make that noise count; where they are a minority — a peaked
/// model — their noise is diluted among exact-headed peaked rows, while they carry most of the bytes (on the realistic
/// 128k model the 6 % of rows keeping ≥ 20 % of the vocabulary hold 68 % of the bytes), so refining them would cost the
/// size goal for no measurable accuracy. Only earlier rows of the same chunk count, so a chunk encodes the same whether
/// it is written alone, resumed, or in a shard. The prior keeps a peaked chunk whose first rows happen to be wide (the
/// position after BOS often is) from coding them finely: on the realistic 32k model without it the first row of a chunk
/// went fine and cost 1 % of the chunk's bytes; with it a flat chunk's first three rows stay coarse.
/// </summary>
internal sealed class QuantizedTierRule(QuantizedRowSettings settings, int vocab)
{
    private readonly long _wideCount = settings.HasTiers ? (long)Math.Ceiling(settings.WideShare * vocab) : long.MaxValue;
    public const int PriorNarrowRows = 4;
    private int _rows = PriorNarrowRows, _wide;

    /// <summary>Forgets the chunk's rows (a new chunk starts).</summary>
    public void StartChunk() => (_rows, _wide) = (PriorNarrowRows, 0);

    /// <summary>Counts a row that keeps <paramref name="kept"/> tokens under the coarse mapping and returns its tier (0 coarse, 1 fine).</summary>
    public int Next(int kept)
    {
        bool wide = kept >= _wideCount;
        _rows++;
        if (wide) _wide++;
        return wide && 2 * _wide >= _rows ? 1 : 0;
    }
}
