namespace GgufOptimize.Synthetic;

/// <summary>
/// The numbers inside a synthetic llama model, generated one row at a time from (seed, tensor, row).
///
/// The residual stream of a token is: Gaussian noise in every channel, a few outlier channels with
/// <see cref="SyntheticModelOptions.OutlierScale"/> times the spread, one "sink" channel holding a large constant
/// (real LLMs show such massive activations), and a direction for the token's class in a small random grammar.
/// The classifier reads the class direction (successor classes get +<see cref="ClassBoost"/> nats), the sink
/// channel (a per-token bias: a Zipf-like word frequency) and random directions (± a nat or two). The layers
/// are random with fan-in scaling and add a bounded share of energy, so the context shifts the prediction
/// without drowning the bigram structure. Next-token distributions therefore have an entropy of a few nats,
/// sentences end in ".", and paragraphs end with &lt;/s&gt; after a sentence end.
/// </summary>
internal sealed class SyntheticWeights
{
    private const double ClassBoost = 6.0;
    private const double RandomLogitStd = 1.5;
    // The class is read back through output rows of norm ~2.6 (a few class directions each); with unit noise per
    // channel that readout has noise ~2.6, so the class amplitude is set for a signal-to-noise ratio of 5 whatever n_embd.
    private const double ClassAmplitude = 5 * 2.6;
    private const double SinkEnergy = 0.5;    // of n_embd, in the embedding
    private const double LayerEnergy = 0.25;  // added by all layers together, relative to the embedding
    private const double AttentionVariance = 0.7; // of the mixed values, a rough estimate
    private const double SiluProductVariance = 0.36; // E[silu(g)^2 u^2] for g, u ~ N(0, 1)
    private const double ZipfSlope = 0.9;
    private const double PSentenceEnd = 0.07, PPause = 0.06, PEndOfText = 0.3;
    private const float HotNeuronScale = 4f;

    private readonly SyntheticModelOptions _o;
    private readonly SyntheticVocabulary _vocab;
    private readonly int _d;
    private readonly int _sink;
    private readonly int _damp;             // the confidence channel (-1 without a confidence spread)
    private readonly double _logitScale;
    private readonly float[] _channelStd;
    private readonly bool[] _ordinary;      // neither the sink nor an outlier channel
    private readonly int _wordClasses;
    private readonly float[][] _directions; // word classes, then Wordness, Pause, SentenceEnd, Bos
    private readonly int[] _class;          // word class of each word-like token (-1 for others)
    private readonly List<int>[] _predecessors;
    private readonly double[] _bias;
    private readonly bool[] _hotNeuron;
    private readonly double _alpha, _sinkValue, _rmsFinal, _outputStd, _outputFeatureScale;
    private readonly double _attnOutStd, _ffnDownStd;

    private int Wordness => _wordClasses;
    private int PauseDir => _wordClasses + 1;
    private int EndDir => _wordClasses + 2;
    private int BosDir => _wordClasses + 3;

    public SyntheticWeights(SyntheticModelOptions options, SyntheticVocabulary vocab)
    {
        _o = options;
        _vocab = vocab;
        _d = options.EmbeddingLength;
        var rng = DeterministicRandom.For(options.Seed, "structure");

        var channels = Enumerable.Range(0, _d).ToList();
        rng.Shuffle(channels);
        _sink = channels[0];
        _channelStd = Enumerable.Repeat(1f, _d).ToArray();
        int outliers = options.EffectiveOutlierChannels;
        for (int i = 1; i <= outliers; i++) _channelStd[channels[i]] = options.OutlierScale;
        _channelStd[_sink] = 0.5f;
        // A confidence spread takes one more channel out of the ordinary ones; without it the layout (and every
        // weight) is exactly what it was before the option existed.
        _damp = options.ConfidenceSpread > 0 ? channels[outliers + 1] : -1;
        if (_damp >= 0) _channelStd[_damp] = 0f;
        int special = outliers + 1 + (_damp >= 0 ? 1 : 0);
        _ordinary = Enumerable.Range(0, _d).Select(i => !channels.Take(special).Contains(i)).ToArray();
        _logitScale = options.LogitScale;

        int wordLike = Enumerable.Range(0, vocab.Count).Count(t => IsWordLike(vocab.Kinds[t]));
        _wordClasses = Math.Clamp(wordLike / 32, 4, Math.Max(4, Math.Min(256, _d / 4)));
        _directions = Directions(rng, _wordClasses + 4);

        _class = new int[vocab.Count];
        for (int t = 0; t < vocab.Count; t++)
            _class[t] = IsWordLike(vocab.Kinds[t]) || vocab.Kinds[t] == SyntheticTokenKind.Byte ? rng.NextInt(_wordClasses) : -1;
        _predecessors = Enumerable.Range(0, _wordClasses).Select(_ => new List<int>()).ToArray();
        for (int k = 0; k < _wordClasses; k++)
        {
            int first = rng.NextInt(_wordClasses);
            int second = (first + 1 + rng.NextInt(_wordClasses - 1)) % _wordClasses;
            _predecessors[first].Add(k);
            _predecessors[second].Add(k);
        }


        int ff = options.EffectiveFeedForwardLength;
        _hotNeuron = new bool[ff];
        for (int i = 0; i < Math.Max(1, ff / 256); i++) _hotNeuron[rng.NextInt(ff)] = true;

        double d = _d;
        _alpha = ClassAmplitude;
        double energy = (d - special) + outliers * options.OutlierScale * options.OutlierScale + 0.25 + _alpha * _alpha + SinkEnergy * d;
        _sinkValue = Math.Sqrt(SinkEnergy * d);
        double finalEnergy = energy * (1 + LayerEnergy);
        _rmsFinal = Math.Sqrt(finalEnergy / d);
        _outputStd = RandomLogitStd * _rmsFinal / Math.Sqrt(finalEnergy - _sinkValue * _sinkValue);
        _outputFeatureScale = ClassBoost * _rmsFinal / _alpha;
        double perBlockChannelStd = Math.Sqrt(LayerEnergy * energy / (2 * options.LayerCount) / d);
        _attnOutStd = perBlockChannelStd / Math.Sqrt(d * AttentionVariance);
        int hot = _hotNeuron.Count(h => h);
        _ffnDownStd = perBlockChannelStd / Math.Sqrt(SiluProductVariance * (ff + hot * (HotNeuronScale * HotNeuronScale - 1)));

        _bias = BaseBiases();
        Calibrate(_bias, LayerEnergy);
    }

    public int SinkChannel => _sink;
    public IReadOnlyList<int> OutlierChannels => Enumerable.Range(0, _d).Where(i => !_ordinary[i] && i != _sink).ToList();

    private static bool IsWordLike(SyntheticTokenKind k) => k is SyntheticTokenKind.Word or SyntheticTokenKind.WordPrefix
        or SyntheticTokenKind.Fragment or SyntheticTokenKind.Character or SyntheticTokenKind.Space;

    /// <summary>Unit directions in the ordinary channels (not the sink or outliers, whose large values would add noise); orthonormal when they fit.</summary>
    private float[][] Directions(DeterministicRandom rng, int count)
    {
        var dirs = new double[count][];
        int ordinary = _ordinary.Count(o => o);
        for (int k = 0; k < count; k++)
        {
            var v = new double[_d];
            for (int i = 0; i < _d; i++) v[i] = _ordinary[i] ? rng.NextGaussian() : 0;
            if (count <= ordinary)
                for (int j = 0; j < k; j++)
                {
                    double dot = 0;
                    for (int i = 0; i < _d; i++) dot += v[i] * dirs[j][i];
                    for (int i = 0; i < _d; i++) v[i] -= dot * dirs[j][i];
                }
            double norm = Math.Sqrt(v.Sum(x => x * x));
            for (int i = 0; i < _d; i++) v[i] /= norm;
            dirs[k] = v;
        }
        return dirs.Select(v => v.Select(x => (float)x).ToArray()).ToArray();
    }

    /// <summary>Per-token logit offsets (nats): a Zipf-like curve over words, rare characters and bytes.</summary>
    private double[] BaseBiases()
    {
        int n = _vocab.Count;
        var b = new double[n];
        for (int t = 0; t < n; t++)
        {
            double zipf = -ZipfSlope * Math.Log(1 + _vocab.Ranks[t] / 10.0);
            b[t] = _vocab.Kinds[t] switch
            {
                SyntheticTokenKind.Word => zipf,
                SyntheticTokenKind.WordPrefix => zipf - 2.5,
                SyntheticTokenKind.Fragment => zipf - 1.5,
                SyntheticTokenKind.Character => -4,
                SyntheticTokenKind.Space => -5,
                SyntheticTokenKind.Byte => -12,
                _ => -20, // controls, and punctuation and </s> until calibrated
            };
        }
        return b;
    }

    /// <summary>
    /// Sets the biases of punctuation and &lt;/s&gt; so that, on average over sampled contexts, they get their target
    /// probabilities. Sums of many lognormal terms are far below their mean in a typical context, so this is
    /// measured on the classifier itself (without the layers, whose effect is imitated by random energy) rather
    /// than computed from expected masses.
    /// </summary>
    private void Calibrate(double[] bias, double layerEnergy)
    {
        var rng = DeterministicRandom.For(_o.Seed, "calibration");
        var norm = new float[_d];
        NormVector("output_norm.weight", norm);
        int n = _vocab.Count;
        var wordContexts = Enumerable.Range(0, 48).Select(_ => RandomToken(rng, k => IsWordLike(k))).ToList();
        var ends = Enumerable.Range(0, n).Where(t => _vocab.Kinds[t] == SyntheticTokenKind.SentenceEnd).ToList();
        var endContexts = Enumerable.Range(0, 24).Select(i => ends[i % ends.Count]).ToList();
        var contexts = wordContexts.Concat(endContexts).ToList();

        // The normalized final state of each context: its embedding plus layer-like random energy.
        var states = new float[contexts.Count][];
        var sinkFactor = new double[contexts.Count];
        var h = new float[_d];
        for (int c = 0; c < contexts.Count; c++)
        {
            EmbeddingRow(contexts[c], h);
            double energy = 0;
            foreach (var x in h) energy += x * x;
            double extra = Math.Sqrt(layerEnergy * energy / _d);
            for (int i = 0; i < _d; i++) h[i] += (float)(extra * rng.NextGaussian());
            double rms = Math.Sqrt(h.Sum(x => (double)x * x) / _d + _o.RmsEpsilon);
            states[c] = h.Select((x, i) => (float)(x / rms * norm[i])).ToArray();
            sinkFactor[c] = states[c][_sink] * _rmsFinal / _sinkValue * _logitScale;
        }
        var baseLogit = new double[contexts.Count][];
        for (int c = 0; c < contexts.Count; c++) baseLogit[c] = new double[n];
        Parallel.For(0, n, () => new float[_d], (j, _, row) =>
        {
            OutputFeatures(j, row);
            row[_sink] = 0;
            for (int c = 0; c < contexts.Count; c++) baseLogit[c][j] = System.Numerics.Tensors.TensorPrimitives.Dot(row, states[c]);
            return row;
        }, _ => { });

        var pauses = Members(SyntheticTokenKind.Pause);
        var sentenceEnds = Members(SyntheticTokenKind.SentenceEnd);
        var eos = new List<int> { SyntheticVocabulary.Eos };
        var afterWord = Enumerable.Range(0, wordContexts.Count).ToList();
        var afterEnd = Enumerable.Range(wordContexts.Count, endContexts.Count).ToList();
        for (int round = 0; round < 3; round++)
        {
            FitGroup(bias, pauses, 0.85, PPause, afterWord, baseLogit, sinkFactor);
            FitGroup(bias, sentenceEnds, 0.9, PSentenceEnd, afterWord, baseLogit, sinkFactor);
            FitGroup(bias, eos, 1, PEndOfText, afterEnd, baseLogit, sinkFactor);
        }
    }

    private List<int> Members(SyntheticTokenKind kind) => Enumerable.Range(0, _vocab.Count).Where(t => _vocab.Kinds[t] == kind).ToList();

    private int RandomToken(DeterministicRandom rng, Func<SyntheticTokenKind, bool> accept)
    {
        while (true)
        {
            int t = rng.NextInt(_vocab.Count);
            if (accept(_vocab.Kinds[t])) return t;
        }
    }

    /// <summary>
    /// Bisects the log-mass of a token group so its mean probability over the contexts hits the target; the first
    /// member gets <paramref name="firstShare"/> of it, the others split the rest.
    /// </summary>
    private static void FitGroup(double[] bias, List<int> group, double firstShare, double target, List<int> contexts, double[][] baseLogit, double[] sinkFactor)
    {
        var share = group.Select((_, i) => Math.Log(group.Count == 1 ? 1 : i == 0 ? firstShare : (1 - firstShare) / (group.Count - 1))).ToArray();
        var inGroup = new HashSet<int>(group);
        // The rest of the vocabulary does not move while the group's bias is searched: sum it once per context.
        var reference = new double[contexts.Count];
        var restMass = new double[contexts.Count];
        for (int c = 0; c < contexts.Count; c++)
        {
            var l = baseLogit[contexts[c]];
            double f = sinkFactor[contexts[c]], max = double.NegativeInfinity, z = 0;
            for (int j = 0; j < l.Length; j++) if (!inGroup.Contains(j)) max = Math.Max(max, l[j] + bias[j] * f);
            for (int j = 0; j < l.Length; j++) if (!inGroup.Contains(j)) z += Math.Exp(l[j] + bias[j] * f - max);
            reference[c] = max;
            restMass[c] = z;
        }
        double lo = -40, hi = 40;
        for (int iter = 0; iter < 60; iter++)
        {
            double mid = (lo + hi) / 2, mean = 0;
            for (int c = 0; c < contexts.Count; c++)
            {
                var l = baseLogit[contexts[c]];
                double f = sinkFactor[contexts[c]], g = 0;
                for (int i = 0; i < group.Count; i++) g += Math.Exp(l[group[i]] + (mid + share[i]) * f - reference[c]);
                mean += g / (g + restMass[c]);
            }
            if (mean / contexts.Count < target) lo = mid; else hi = mid;
        }
        for (int i = 0; i < group.Count; i++) bias[group[i]] = (lo + hi) / 2 + share[i];
    }

    public void EmbeddingRow(int token, Span<float> row)
    {
        var rng = DeterministicRandom.For(_o.Seed, "token_embd", token);
        for (int i = 0; i < _d; i++) row[i] = (float)(rng.NextGaussian() * _channelStd[i]);
        row[_sink] += (float)_sinkValue;
        if (_damp >= 0) row[_damp] = (float)DampingValue(token);
        var kind = _vocab.Kinds[token];
        if (_class[token] >= 0)
        {
            double a = _alpha / Math.Sqrt(2);
            Add(row, _directions[_class[token]], a);
            Add(row, _directions[Wordness], a);
        }
        else if (kind == SyntheticTokenKind.Pause) Add(row, _directions[PauseDir], _alpha);
        else if (kind == SyntheticTokenKind.SentenceEnd || token == SyntheticVocabulary.Eos) Add(row, _directions[EndDir], _alpha);
        else if (token == SyntheticVocabulary.Bos) Add(row, _directions[BosDir], _alpha);
        else Add(row, _directions[Wordness], _alpha);
    }

    public void OutputRow(int token, Span<float> row)
    {
        OutputFeatures(token, row);
        row[_sink] = (float)(_bias[token] * _rmsFinal / _sinkValue * _logitScale);
    }

    /// <summary>
    /// The confidence channel's value in token t's embedding. The classifier does not read this channel, but the final
    /// RMS norm divides by the total energy, so D extra energy scales every logit of the next prediction by
    /// r = √(E / (E + D)) with E the usual final energy: D = E (1/r² − 1) for r_t = e^(−spread·E_t), E_t ~ Exp(1),
    /// r_t ≥ 0.02 (so F16 storage holds the value).
    /// </summary>
    private double DampingValue(int token)
    {
        var rng = DeterministicRandom.For(_o.Seed, "confidence", token);
        double e = -Math.Log(1 - rng.NextDouble());
        double r = Math.Max(0.02, Math.Exp(-_o.ConfidenceSpread * e));
        return Math.Sqrt(_rmsFinal * _rmsFinal * _d * (1 / (r * r) - 1));
    }

    /// <summary>The classifier row without its bias entry: random directions plus the grammar features.</summary>
    private void OutputFeatures(int token, Span<float> row)
    {
        var rng = DeterministicRandom.For(_o.Seed, "output", token);
        for (int i = 0; i < _d; i++) row[i] = (float)(rng.NextGaussian() * _outputStd);
        // Inputs carry their class as (u_class + u_word)/√2, hence √2 on class features.
        double s = _outputFeatureScale;
        var kind = _vocab.Kinds[token];
        ApplyFeatures(token, kind, row, s);
        if (_damp >= 0) row[_damp] = 0;
        if (_logitScale != 1) for (int i = 0; i < _d; i++) row[i] = (float)(row[i] * _logitScale);
    }

    private void ApplyFeatures(int token, SyntheticTokenKind kind, Span<float> row, double s)
    {
        if (IsWordLike(kind))
        {
            foreach (int k in _predecessors[_class[token]]) Add(row, _directions[k], s * Math.Sqrt(2));
            if (kind != SyntheticTokenKind.Fragment)
            {
                Add(row, _directions[PauseDir], s);
                Add(row, _directions[EndDir], s);
                Add(row, _directions[BosDir], s);
            }
        }
        else if (kind is SyntheticTokenKind.Pause or SyntheticTokenKind.SentenceEnd) Add(row, _directions[Wordness], s * Math.Sqrt(2));
        else if (token == SyntheticVocabulary.Eos)
        {
            // Text ends after a sentence end, hardly ever straight after a word.
            Add(row, _directions[EndDir], s);
            Add(row, _directions[Wordness], -s * Math.Sqrt(2));
        }
    }

    /// <summary>A norm weight vector: around 1 with a little spread, as trained models have.</summary>
    public void NormVector(string name, Span<float> values)
    {
        var rng = DeterministicRandom.For(_o.Seed, name);
        for (int i = 0; i < values.Length; i++) values[i] = (float)(1 + 0.1 * rng.NextGaussian());
    }

    /// <summary>Row <paramref name="row"/> (one output unit) of a layer matrix.</summary>
    public void MatrixRow(string name, LayerMatrix matrix, int row, Span<float> values)
    {
        var rng = DeterministicRandom.For(_o.Seed, name, row);
        double std = matrix switch
        {
            LayerMatrix.AttentionOutput => _attnOutStd,
            LayerMatrix.FfnDown => _ffnDownStd,
            _ => 1 / Math.Sqrt(_d),
        };
        if (matrix == LayerMatrix.FfnUp && _hotNeuron[row]) std *= HotNeuronScale;
        for (int i = 0; i < values.Length; i++) values[i] = (float)(rng.NextGaussian() * std);
    }

    private static void Add(Span<float> row, float[] direction, double scale)
    {
        for (int i = 0; i < row.Length; i++) row[i] += (float)(direction[i] * scale);
    }
}

internal enum LayerMatrix { Query, Key, Value, AttentionOutput, FfnGate, FfnUp, FfnDown }
