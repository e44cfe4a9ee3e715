namespace GgufOptimize.Datasets.Selection;

/// <summary>
/// Streaming selection for one language. The sample order is arrival order, or with <c>--shuffle</c> the seeded
/// content hash. The selector keeps the first <c>skip</c> samples of that order (to leave out) and, after them, the
/// shortest run that meets the budget; with a hash order a later sample can displace a held one, which is what makes
/// the result independent of how the corpus is ordered and lets <c>--skip-samples</c> continue a smaller run exactly.
/// Memory: one <see cref="HeldSample"/> per held sample; the texts are in the spill file.
/// </summary>
internal sealed class LanguageSelector
{
    private readonly int _skipQuota;
    private readonly SelectionBudget _budget;
    private readonly bool _hashOrder;
    private readonly bool _deduplicate;
    private readonly SpillStore _spill;
    private readonly ITokenCounter? _tokens;
    private readonly PriorityQueue<HeldSample, OrderKey> _skip = new(OrderKey.Descending);
    private readonly PriorityQueue<HeldSample, OrderKey> _take = new(OrderKey.Descending);
    private readonly HashSet<UInt128> _held = [];
    private long _takeTokens;

    public LanguageSelector(int skipQuota, SelectionBudget budget, bool hashOrder, bool deduplicate, SpillStore spill, ITokenCounter? tokens)
    {
        if (budget.ByTokens && tokens is null) throw new ArgumentException("a token budget needs a token counter", nameof(tokens));
        _skipQuota = skipQuota;
        _budget = budget;
        _hashOrder = hashOrder;
        _deduplicate = deduplicate;
        _spill = spill;
        _tokens = tokens;
        UpdateComplete();
    }

    /// <summary>In arrival order, true once no later sample can be selected: the reader may stop feeding this language.</summary>
    public bool Complete { get; private set; }
    /// <summary>Samples offered (after length filters).</summary>
    public long Candidates { get; private set; }
    /// <summary>Exact duplicates of a held sample that were dropped.</summary>
    public long Duplicates { get; private set; }
    public int Skipped => _skip.Count;

    private bool SkipFull => _skip.Count >= _skipQuota;
    private bool TakeFull => _budget.ByTokens ? _takeTokens >= _budget.Tokens : _take.Count >= _budget.Samples;

    public void Offer(PreparedText text, UInt128 hash, long ordinal)
    {
        Candidates++;
        if (_deduplicate && _held.Contains(hash))
        {
            Duplicates++;
            return;
        }
        var key = new OrderKey(_hashOrder ? hash : UInt128.Zero, ordinal);
        if (SkipFull && TakeFull && (MaxHeld() is not { } max || key > max)) return;

        // In arrival order a skipped sample can never move into the selection, so its text need not be kept.
        bool keepText = _hashOrder || SkipFull;
        long offset = keepText ? _spill.Append(text.Utf8) : -1;
        var sample = new HeldSample(key, hash, offset, text.ByteLength, text.Chars, -1);
        if (_deduplicate) _held.Add(hash);
        if (!SkipFull)
        {
            _skip.Enqueue(sample, key);
            UpdateComplete();
            return;
        }
        string? known = text.Text;
        if (_skipQuota > 0 && key < _skip.Peek().Key)
        {
            // The newcomer belongs to the skipped part; the largest skipped sample moves on into the selection.
            var moved = _skip.Dequeue();
            _skip.Enqueue(sample, key);
            sample = moved;
            known = null;
        }
        AddToTake(sample, known);
        UpdateComplete();
    }

    /// <summary>The selected samples in sample order.</summary>
    public List<HeldSample> Finish()
    {
        var result = new List<HeldSample>(_take.Count);
        while (_take.Count > 0) result.Add(_take.Dequeue());
        result.Reverse();
        return result;
    }

    private void AddToTake(HeldSample sample, string? text)
    {
        if (_budget.ByTokens && sample.Tokens < 0)
            sample = sample with { Tokens = _tokens!.CountTokens(text ?? _spill.ReadString(sample)) };
        _take.Enqueue(sample, sample.Key);
        _takeTokens += Math.Max(sample.Tokens, 0);
        while (_take.Count > 0 && OverBudget())
        {
            var evicted = _take.Dequeue();
            _takeTokens -= Math.Max(evicted.Tokens, 0);
            if (_deduplicate) _held.Remove(evicted.Hash);
        }
    }

    // Evict the last sample while the selection would still meet its budget without it.
    private bool OverBudget() => _budget.ByTokens
        ? _take.Count > 1 && _takeTokens - _take.Peek().Tokens >= _budget.Tokens
        : _take.Count > _budget.Samples;

    private OrderKey? MaxHeld() => _take.Count > 0 ? _take.Peek().Key : _skip.Count > 0 ? _skip.Peek().Key : null;

    private void UpdateComplete()
    {
        if (!_hashOrder && SkipFull && TakeFull) Complete = true;
    }
}
