using System.Globalization;
using GgufOptimize.Common;
using GgufOptimize.Metrics;
using GgufOptimize.Storage.Hdf5;

namespace GgufOptimize.Storage.Formats.Compact;

/// <summary>
/// Reads a quantized compact baseline (compact-2, -3 or -4) and scores targets against it with <see cref="SparseLogProbComparer"/>.
/// Opening it checks every processed chunk (its blob inside the file, decompressible, every row well formed) before any
/// of it is trusted. Scoring also computes each position's error bound (<see cref="QuantizedErrorBound"/>) from the
/// stored row and the target, and keeps the largest and the mean over the positions it scored.
/// </summary>
internal sealed class QuantizedBaselineReader : IStoredBaseline
{
    private readonly Hdf5MappedReader _reader;
    private readonly Hdf5DatasetInfo _encoded;
    private readonly long[] _start, _bytes, _checksum;
    private readonly double[] _tau, _kappa;
    private readonly int[] _lengths;
    private readonly bool[] _processed;
    private readonly Lock _boundLock = new();
    private double _worstBound, _boundSum;
    private long _boundCount;

    public string Path { get; }
    public StoredLogitsKind Kind => StoredLogitsKind.QuantizedCompact;
    public BaselineHeader Header { get; }
    BaselineHeader? IStoredBaseline.Header => Header;
    public QuantizedRowSettings Settings { get; }
    public double MaxTotalVariation { get; }
    public double MaxDecodedDivergence { get; }
    /// <summary>The format attribute: compact-2, compact-3 (a second knee in the code mapping) or compact-4 (and a fine tier).</summary>
    public string Format { get; }
    public string Identity => $"{Format["gguf-optimize-".Length..]} logits of {Header.Model.Sha256} on {Header.DatasetSha256}, n_ctx {Header.ContextSize}, {Settings.Describe()}";
    public int ContextSize => Header.ContextSize;
    public int VocabSize => Header.VocabSize;
    public int TotalChunks => Header.TotalChunks;
    public int ProcessedCount => _processed.Count(p => p);
    public int FirstStoredPosition => 0;
    /// <summary>Bytes of encoded data (all chunks).</summary>
    public long EncodedBytes => _encoded.ElementCount;
    /// <summary>Positions stored (processed chunks).</summary>
    public long StoredPositions { get; }

    /// <summary>Largest per-position bound on |KLD − KLD̂| over the positions scored so far (0 before any).</summary>
    public double WorstBound { get { lock (_boundLock) return _worstBound; } }
    /// <summary>Mean per-position bound over the positions scored so far: a bound on the error of the mean KLD.</summary>
    public double MeanBound { get { lock (_boundLock) return _boundCount == 0 ? 0 : _boundSum / _boundCount; } }

    (double Worst, double Mean)? IStoredBaseline.ScoredBound
    {
        get { lock (_boundLock) return _boundCount == 0 ? null : (_worstBound, _boundSum / _boundCount); }
    }

    public string Accuracy => string.Create(CultureInfo.InvariantCulture,
        $"quantized compact baseline ({Settings.Describe()}): each position's KLD is within (ε + τ)·S + κ of the float32 value, τ {MaxTotalVariation:G3}, κ {MaxDecodedDivergence:G3}, S = max − min over the vocabulary of log(P/Q)");

    private QuantizedBaselineReader(string path, Hdf5Layout layout)
    {
        Path = path;
        Header = BaselineLogitsReader.HeaderFrom(layout, path);
        var root = layout.Root;
        double Attribute(string name) => root.TryGetAttribute<double>(name, out var v) ? v
            : throw GgufOptimizeException.BadInput($"'{path}' has no attribute {name} (the file is corrupt or not a compact-2 baseline)");
        root.TryGetAttribute<string>(BaselineLayout.AttrFormat, out var format);
        Format = format ?? QuantizedLayout.FormatName;
        // compact-3 adds the second knee; a compact-2 file has none (and must not carry one). compact-4 adds a fine tier
        // (every attribute of its mapping under fine_, and wide_share).
        bool three = Format == QuantizedLayout.FormatName3, four = Format == QuantizedLayout.FormatName4;
        QuantizedRowSettings Mapping(string prefix, bool secondKnee) => new(Attribute(prefix + QuantizedLayout.AttrTailMass), Attribute(prefix + QuantizedLayout.AttrProbabilityStep),
            Attribute(prefix + QuantizedLayout.AttrLogStep), secondKnee ? Attribute(prefix + QuantizedLayout.AttrSecondKnee) : 0, secondKnee ? Attribute(prefix + QuantizedLayout.AttrSecondLogStep) : 0);
        Settings = Mapping("", three || (four && root.TryGetAttribute<double>(QuantizedLayout.AttrSecondKnee, out _)));
        if (four) Settings = Settings with { Fine = Mapping(QuantizedLayout.AttrFinePrefix, true), WideShare = Attribute(QuantizedLayout.AttrWideShare) };
        if (three && !Settings.HasSecondKnee) throw GgufOptimizeException.BadInput($"'{path}': a compact-3 file without a second knee (the file is corrupt)");
        if (Settings.Problem() is { } problem) throw GgufOptimizeException.BadInput($"'{path}': {problem} (the file is corrupt)");
        MaxTotalVariation = Attribute(QuantizedLayout.AttrTotalVariation);
        MaxDecodedDivergence = Attribute(QuantizedLayout.AttrDivergence);
        if (!(MaxTotalVariation is >= 0 and <= 1) || !(MaxDecodedDivergence >= 0 && double.IsFinite(MaxDecodedDivergence)))
            throw GgufOptimizeException.BadInput($"'{path}': recorded τ {MaxTotalVariation} or κ {MaxDecodedDivergence} is impossible (the file is corrupt)");
        _reader = Hdf5MappedReader.Open(layout);
        try
        {
            int chunks = TotalChunks, n = ContextSize;
            _encoded = layout.TryGetDataset(QuantizedLayout.Encoded, out var e) && e.Shape.Count == 1 ? StoredFileChecks.Shape<byte>(path, layout, QuantizedLayout.Encoded, e.Shape[0])
                : throw GgufOptimizeException.BadInput($"'{path}' has no one-dimensional dataset {QuantizedLayout.Encoded} (the file is corrupt)");
            StoredFileChecks.Shape<long>(path, layout, QuantizedLayout.ChunkStart, chunks);
            StoredFileChecks.Shape<long>(path, layout, QuantizedLayout.ChunkBytes, chunks);
            StoredFileChecks.Shape<double>(path, layout, QuantizedLayout.ChunkTotalVariation, chunks);
            StoredFileChecks.Shape<double>(path, layout, QuantizedLayout.ChunkDivergence, chunks);
            StoredFileChecks.Shape<long>(path, layout, QuantizedLayout.ChunkChecksum, chunks);
            StoredFileChecks.Shape<int>(path, layout, BaselineLayout.ChunkLengths, chunks);
            StoredFileChecks.Shape<byte>(path, layout, QuantizedLayout.ProcessedChunks, chunks);
            StoredFileChecks.Shape<int>(path, layout, BaselineLayout.Tokens, chunks, n);
            _start = _reader.Elements<long>(QuantizedLayout.ChunkStart, 0, chunks).ToArray();
            _bytes = _reader.Elements<long>(QuantizedLayout.ChunkBytes, 0, chunks).ToArray();
            _checksum = _reader.Elements<long>(QuantizedLayout.ChunkChecksum, 0, chunks).ToArray();
            _tau = _reader.Elements<double>(QuantizedLayout.ChunkTotalVariation, 0, chunks).ToArray();
            _kappa = _reader.Elements<double>(QuantizedLayout.ChunkDivergence, 0, chunks).ToArray();
            _lengths = _reader.Elements<int>(BaselineLayout.ChunkLengths, 0, chunks).ToArray();
            var flags = _reader.Elements<byte>(QuantizedLayout.ProcessedChunks, 0, chunks);
            _processed = new bool[chunks];
            for (int i = 0; i < chunks; i++) _processed[i] = flags[i] != 0;
            StoredFileChecks.Lengths(path, _lengths, c => _processed[c], n);
            StoredFileChecks.Tokens(path, _reader.Elements<int>(BaselineLayout.Tokens, 0, checked(chunks * n)), _lengths, c => _processed[c], n, VocabSize);
            StoredPositions = CheckChunks(path);
        }
        catch
        {
            _reader.Dispose();
            throw;
        }
    }

    /// <summary>Every processed chunk: blob inside <c>encoded</c>, τ and κ no larger than the file's, rows as many as its length, each well formed.</summary>
    private long CheckChunks(string path)
    {
        long positions = 0;
        var chunk = new QuantizedChunk();
        for (int c = 0; c < TotalChunks; c++)
        {
            if (!_processed[c]) continue;
            if (_start[c] < 0 || _bytes[c] < 5 || _bytes[c] > int.MaxValue || _start[c] > _encoded.ElementCount - _bytes[c])
                throw GgufOptimizeException.BadInput($"'{path}': chunk {c}'s data [{_start[c]}, +{_bytes[c]}) lies outside the encoded data ({_encoded.ElementCount} bytes) (the file is corrupt)");
            if (!(_tau[c] >= 0 && _tau[c] <= MaxTotalVariation) || !(_kappa[c] >= 0 && _kappa[c] <= MaxDecodedDivergence))
                throw GgufOptimizeException.BadInput($"'{path}': chunk {c}'s τ {_tau[c]} or κ {_kappa[c]} exceeds the file's recorded bound (the file is corrupt)");
            string? why = null;
            if (QuantizedLayout.Checksum(Blob(c)) != _checksum[c]) why = "its bytes do not match their checksum";
            else try
            {
                chunk.Load(Blob(c));
                why = chunk.Rows != _lengths[c] ? $"{chunk.Rows} rows for a chunk of {_lengths[c]} tokens" : chunk.Validate(VocabSize, _lengths[c] - 1, Settings);
            }
            catch (InvalidDataException e)
            {
                why = e.Message;
            }
            if (why is not null) throw GgufOptimizeException.BadInput($"'{path}': chunk {c} is damaged ({why}); make the baseline again");
            positions += _lengths[c];
        }
        return positions;
    }

    public static QuantizedBaselineReader Open(string path)
    {
        var layout = Hdf5ContiguousFile.Open(path);
        if (!layout.Root.TryGetAttribute<string>(BaselineLayout.AttrFormat, out var format) || !QuantizedLayout.IsOurs(format))
            throw GgufOptimizeException.BadInput($"'{path}' is not a compact-2/3/4 baseline file (format attribute {(format is null ? "missing" : $"'{format}'")})");
        return new QuantizedBaselineReader(path, layout);
    }

    public bool HasChunk(int chunk) => (uint)chunk < (uint)_processed.Length && _processed[chunk];

    public int[] ChunkTokens(int chunk) =>
        _reader.Elements<int>(BaselineLayout.Tokens, (long)chunk * ContextSize, _lengths[chunk]).ToArray();

    private ReadOnlySpan<byte> Blob(int chunk) => _reader.Elements<byte>(_encoded, _start[chunk], (int)_bytes[chunk]);

    /// <summary>The stored chunk with its τ and κ (to copy it into another file).</summary>
    public QuantizedChunkRecord Record(int chunk)
    {
        if (!HasChunk(chunk)) throw new ArgumentException($"compact baseline '{Path}' lacks chunk {chunk}");
        return new QuantizedChunkRecord(_tau[chunk], _kappa[chunk], Blob(chunk).ToArray());
    }

    /// <param name="bounds">When given (one entry per scored position), receives each position's error bound.</param>
    public ChunkResult Score(int chunk, LogitRows target, int[] tokens, int skipFirst, int threads, double[]? bounds) =>
        BeginScore(chunk, target, tokens, skipFirst, threads, bounds).ScoreAll();

    public ChunkScoring BeginScore(int chunk, LogitRows target, int[] tokens, int skipFirst, int threads = 1) =>
        BeginScore(chunk, target, tokens, skipFirst, threads, bounds: null);

    private ChunkScoring BeginScore(int chunk, LogitRows target, int[] tokens, int skipFirst, int threads, double[]? bounds)
    {
        int n = VocabSize;
        if (target.Count != tokens.Length || target.VocabSize != n)
            throw new ArgumentException($"expected {tokens.Length} tokens × {n} logits, target has {target.Count} × {target.VocabSize}");
        if (!HasChunk(chunk)) throw new ArgumentException($"compact baseline '{Path}' lacks chunk {chunk}");
        var rows = new QuantizedChunk();
        rows.Load(Blob(chunk));
        if (rows.Rows != tokens.Length)
            throw new ArgumentException($"chunk {chunk} of '{Path}' has {rows.Rows} positions, {tokens.Length} tokens were given");
        int first = Math.Clamp(skipFirst, 0, Math.Max(0, tokens.Length - 1));
        var positionBounds = bounds ?? new double[Math.Max(0, tokens.Length - 1 - first)];
        double tau = _tau[chunk], kappa = _kappa[chunk];
        return new ChunkScoring(chunk, first, tokens.Length - 1, threads, 2 * n, (start, end, results, scratch) =>
        {
            var ids = new int[n];
            var logP = new double[n];
            for (int j = start; j < end; j++)
            {
                var row = rows.Row(j);
                var h = QuantizedChunk.ReadHeader(row);
                var targetRow = target.Row(j, scratch.AsSpan(n, n));
                if (h.Count == QuantizedChunk.NotFinite)
                {
                    results[j - first] = SparseLogProbComparer.Compare([], false, [], double.NaN, double.NaN, -1, targetRow, tokens[j + 1], scratch.AsSpan(0, n));
                    positionBounds[j - first] = 0;
                    continue;
                }
                bool dense = h.Count is QuantizedChunk.Dense or QuantizedChunk.AllCodes;
                int count;
                double shift = 0;
                if (dense)
                {
                    QuantizedChunk.DecodeDense(row, n, Settings, logP);
                    count = n;
                }
                else count = QuantizedChunk.DecodeSparse(row, Settings, ids, logP, out shift);
                var compared = SparseLogProbComparer.Compare(ids.AsSpan(0, dense ? 0 : count), dense, logP.AsSpan(0, count), h.TailMass,
                    h.NextLogit - h.LogNorm, h.Top, targetRow, tokens[j + 1], scratch.AsSpan(0, n));
                results[j - first] = compared.IsValid ? compared with { Kld = compared.Kld + QuantizedChunk.Correction(row, Settings) } : compared;
                positionBounds[j - first] = QuantizedErrorBound.Of(h.TailMass, tau, kappa, Spread(row, h, dense, ids.AsSpan(0, count), logP.AsSpan(0, count), shift, targetRow));
            }
        }, finish: result =>
        {
            if (bounds is null && positionBounds.Length > 0)
            {
                double worst = 0, sum = 0;
                foreach (double b in positionBounds) { worst = Math.Max(worst, b); sum += b; }
                lock (_boundLock)
                {
                    _worstBound = Math.Max(_worstBound, worst);
                    _boundSum += sum;
                    _boundCount += positionBounds.Length;
                }
            }
            return result;
        });
    }

    /// <summary>An upper bound of S for one row, from the intervals the stored values guarantee.</summary>
    private double Spread(ReadOnlySpan<byte> rowBytes, QuantizedChunk.RowHeader h, bool dense, ReadOnlySpan<int> ids, ReadOnlySpan<double> logP, double shift, ReadOnlySpan<float> target)
    {
        var spread = new QuantizedErrorBound.SpreadBound();
        if (h.Count == QuantizedChunk.Dense)
        {
            // float16 keeps 11 significant bits: a logit x is within |x|·2⁻¹¹ (+ subnormal spacing) of its stored value; the
            // decoded log-probabilities differ from those values by one constant, which S ignores.
            double norm = Math.Abs(h.LogNorm) + 1;
            for (int i = 0; i < target.Length; i++)
            {
                double e = (Math.Abs(logP[i]) + norm) * (1.0 / 2048) + 1e-7;
                spread.Add(logP[i] - e, logP[i] + e, target[i]);
            }
            return spread.Value;
        }
        double step = QuantizedChunk.SettingsOf(rowBytes, Settings).MaxLogError;
        if (dense)
        {
            for (int i = 0; i < target.Length; i++) spread.Add(logP[i] - step, logP[i] + step, target[i]);
            return spread.Value;
        }
        for (int k = 0; k < ids.Length; k++)
        {
            double v = logP[k] - shift;
            spread.Add(v - step, v + step, target[ids[k]]);
        }
        if (h.TailMass > 0 && ids.Length < target.Length)
        {
            float tMin = System.Numerics.Tensors.TensorPrimitives.Min(target), tMax = System.Numerics.Tensors.TensorPrimitives.Max(target);
            spread.AddTail(Math.Min((double)h.MinLogit - h.LogNorm, Math.Log(h.TailMass)), Math.Log(h.TailMass), tMin, tMax);
        }
        return spread.Value;
    }

    public void Dispose() => _reader.Dispose();
}
