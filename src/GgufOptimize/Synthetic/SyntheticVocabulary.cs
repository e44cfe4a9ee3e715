using System.Globalization;

namespace GgufOptimize.Synthetic;

/// <summary>
/// A SentencePiece-style ("llama" tokenizer model) vocabulary: &lt;unk&gt; &lt;s&gt; &lt;/s&gt;, the 256 byte tokens,
/// single characters, then "▁"-prefixed words and word-continuing fragments with descending scores. Every
/// multi-character piece is added after the piece one character shorter, so llama.cpp's score-ordered merges
/// can always build it; anything else falls back to characters and bytes, so any UTF-8 text tokenizes.
/// Depends only on the size: a smaller vocabulary is a prefix of a larger one.
/// </summary>
internal sealed class SyntheticVocabulary
{
    public const int Unknown = 0;
    public const int Bos = 1;
    public const int Eos = 2;
    public const int FirstByte = 3;
    public const string SpaceMark = "\u2581";

    // llama.cpp token types (llama_token_type).
    public const int TypeNormal = 1, TypeUnknown = 2, TypeControl = 3, TypeByte = 6;

    private const string Letters = "abcdefghijklmnopqrstuvwxyz";
    private const string Capitals = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    private const string Digits = "0123456789";
    private const string PauseMarks = ",;:'\"-()";
    private const string EndMarks = ".!?";

    // Frequent English words, most frequent first: their order sets their rank in the word-frequency curve.
    private static readonly string[] CommonWords =
    [
        "the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "he", "was", "for", "on", "are", "with",
        "as", "i", "his", "they", "be", "at", "one", "have", "this", "from", "or", "had", "by", "not", "word",
        "but", "what", "some", "we", "can", "out", "other", "were", "all", "there", "when", "up", "use", "your",
        "how", "said", "an", "each", "she", "which", "do", "their", "time", "if", "will", "way", "about", "many",
        "then", "them", "write", "would", "like", "so", "these", "her", "long", "make", "thing", "see", "him",
        "two", "has", "look", "more", "day", "could", "go", "come", "did", "number", "sound", "no", "most",
        "people", "my", "over", "know", "water", "than", "call", "first", "who", "may", "down", "side", "been",
        "now", "find", "any", "new", "work", "part", "take", "get", "place", "made", "live", "where", "after",
        "back", "little", "only", "round", "man", "year", "came", "show", "every", "good", "me", "give", "our",
        "under", "name", "very", "through", "just", "form", "sentence", "great", "think", "say", "help", "low",
        "line", "differ", "turn", "cause", "much", "mean", "before", "move", "right", "boy", "old", "too", "same",
        "tell", "does", "set", "three", "want", "air", "well", "also", "play", "small", "end", "put", "home",
        "read", "hand", "port", "large", "spell", "add", "even", "land", "here", "must", "big", "high", "such",
        "follow", "act", "why", "ask", "men", "change", "went", "light", "kind", "off", "need", "house", "picture",
        "try", "us", "again", "animal", "point", "mother", "world", "near", "build", "self", "earth", "father",
        "head", "stand", "own", "page", "should", "country", "found", "answer", "school", "grow", "study", "still",
        "learn", "plant", "cover", "food", "sun", "four", "between", "state", "keep", "eye", "never", "last", "let",
        "thought", "city", "tree", "cross", "farm", "hard", "start", "might", "story", "saw", "far", "sea", "draw",
        "left", "late", "run", "while", "press", "close", "night", "real", "life", "few", "north", "open", "seem",
        "together", "next", "white", "children", "begin", "got", "walk", "example", "ease", "paper", "group",
        "always", "music", "those", "both", "mark", "often", "letter", "until", "mile", "river", "car", "feet",
        "care", "second", "book", "carry", "took", "science", "eat", "room", "friend", "began", "idea", "fish",
        "mountain", "stop", "once", "base", "hear", "horse", "cut", "sure", "watch", "color", "face", "wood",
        "main", "enough", "plain", "girl", "usual", "young", "ready", "above", "ever", "red", "list", "though",
        "feel", "talk", "bird", "soon", "body", "dog", "family", "direct", "pose", "leave", "song", "measure",
        "door", "product", "black", "short", "numeral", "class", "wind", "question", "happen", "complete", "ship",
        "area", "half", "rock", "order", "fire", "south", "problem", "piece", "told", "knew", "pass", "since",
        "top", "whole", "king", "space", "heard", "best", "hour", "better", "true", "during", "hundred", "five",
        "remember", "step", "early", "hold", "west", "ground", "interest", "reach", "fast", "verb", "sing",
        "listen", "six", "table", "travel", "less", "morning", "ten", "simple", "several", "vowel", "toward",
        "war", "lay", "against", "pattern", "slow", "center", "love", "person", "money", "serve", "appear", "road",
        "map", "rain", "rule", "govern", "pull", "cold", "notice", "voice", "unit", "power", "town", "fine",
        "certain", "fly", "fall", "lead", "cry", "dark", "machine", "note", "wait", "plan", "figure", "star",
        "box", "noun", "field", "rest", "correct", "able", "pound", "done", "beauty", "drive", "stood", "contain",
        "front", "teach", "week", "final", "gave", "green", "oh", "quick", "develop", "ocean", "warm", "free",
        "minute", "strong", "special", "mind", "behind", "clear", "tail", "produce", "fact", "street", "inch",
        "multiply", "nothing", "course", "stay", "wheel", "full", "force", "blue", "object", "decide", "surface",
        "deep", "moon", "island", "foot", "system", "busy", "test", "record", "boat", "common", "gold", "possible",
        "plane", "stead", "dry", "wonder", "laugh", "thousand", "ago", "ran", "check", "game", "shape", "equate",
        "hot", "miss", "brought", "heat", "snow", "tire", "bring", "yes", "distant", "fill", "east", "paint",
        "language", "among",
    ];

    // Word endings and joins, added as fragments (no "▁") so unseen words still split into few pieces.
    private static readonly string[] Fragments =
    [
        "s", "ed", "ing", "er", "ly", "es", "en", "al", "est", "ion", "tion", "ment", "ness", "ity", "ive", "ous",
        "able", "ful", "less", "ic", "ure", "ance", "ence", "ist", "ism", "ize", "ary", "ory", "ship", "hood",
        "th", "st", "re", "an", "on", "at", "or", "ar", "le", "in", "ter", "ers", "ings", "ied", "ies", "ward",
    ];

    private static readonly string[] Onsets =
    [
        "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "y", "z",
        "bl", "br", "ch", "cl", "cr", "dr", "fl", "fr", "gl", "gr", "pl", "pr", "sc", "sh", "sk", "sl", "sm",
        "sn", "sp", "st", "sw", "th", "tr", "tw", "wh", "qu", "",
    ];

    private static readonly string[] Vowels = ["a", "e", "i", "o", "u", "a", "e", "i", "o", "ai", "ea", "ee", "ie", "oa", "oo", "ou", "y"];

    private static readonly string[] Codas = ["", "", "", "n", "r", "s", "l", "m", "t", "d", "nd", "nt", "st", "ng", "rk", "th", "ck", "ll", "rn", "sh"];

    private readonly Dictionary<string, int> _ids;

    public IReadOnlyList<string> Tokens { get; }
    public IReadOnlyList<float> Scores { get; }
    public IReadOnlyList<int> TokenTypes { get; }
    public IReadOnlyList<SyntheticTokenKind> Kinds { get; }
    /// <summary>For words, prefixes and fragments: the order in which they were added within their kind (0 = most frequent).</summary>
    public IReadOnlyList<int> Ranks { get; }
    public int Count => Tokens.Count;

    /// <summary>Specials, bytes and single characters; a vocabulary needs some room above this for pieces.</summary>
    public static int MinimumSize => FirstByte + 256 + 1 + Letters.Length + Capitals.Length + Digits.Length + PauseMarks.Length + EndMarks.Length + 16;

    private SyntheticVocabulary(List<string> tokens, List<SyntheticTokenKind> kinds, List<int> ranks)
    {
        Tokens = tokens;
        Kinds = kinds;
        Ranks = ranks;
        _ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < tokens.Count; i++) _ids.TryAdd(tokens[i], i);
        var types = new int[tokens.Count];
        var scores = new float[tokens.Count];
        int firstPiece = FirstByte + 256;
        for (int i = 0; i < tokens.Count; i++)
        {
            types[i] = kinds[i] switch
            {
                SyntheticTokenKind.Byte => TypeByte,
                SyntheticTokenKind.Control => i == Unknown ? TypeUnknown : TypeControl,
                _ => TypeNormal,
            };
            // Earlier pieces merge first, like SentencePiece's log-probability scores.
            scores[i] = i >= firstPiece ? -(i - firstPiece) : 0f;
        }
        TokenTypes = types;
        Scores = scores;
    }

    public int? IdOf(string piece) => _ids.TryGetValue(piece, out int id) ? id : null;

    /// <summary>About <paramref name="words"/> whole words of this vocabulary drawn uniformly, in sentences of 40 words.</summary>
    public string RandomWords(int words, ulong seed)
    {
        var pieces = Tokens.Where(p => p.StartsWith(SpaceMark) && p.Length > 2).ToArray();
        var rng = new DeterministicRandom(seed);
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < words; i++)
        {
            sb.Append(pieces[rng.NextInt(pieces.Length)].Replace(SpaceMark, " "));
            if (i % 40 == 39) sb.Append(".\n\n");
        }
        return sb.ToString();
    }

    public static SyntheticVocabulary Build(int size)
    {
        if (size < MinimumSize) throw new ArgumentOutOfRangeException(nameof(size), $"a synthetic vocabulary needs at least {MinimumSize} tokens (got {size})");
        var tokens = new List<string>(size) { "<unk>", "<s>", "</s>" };
        var kinds = new List<SyntheticTokenKind> { SyntheticTokenKind.Control, SyntheticTokenKind.Control, SyntheticTokenKind.Control };
        var ranks = new List<int> { 0, 0, 0 };
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var rankOf = new Dictionary<SyntheticTokenKind, int>();

        bool Add(string piece, SyntheticTokenKind kind)
        {
            if (seen.TryGetValue(piece, out int existing))
            {
                // "▁a" may first appear as the start of "▁an"; once it is seen as a word it counts as one.
                if (kind == SyntheticTokenKind.Word && kinds[existing] == SyntheticTokenKind.WordPrefix)
                {
                    kinds[existing] = kind;
                    ranks[existing] = rankOf.GetValueOrDefault(kind);
                    rankOf[kind] = ranks[existing] + 1;
                }
                return false;
            }
            if (tokens.Count >= size) return false;
            seen[piece] = tokens.Count;
            tokens.Add(piece);
            kinds.Add(kind);
            int rank = rankOf.GetValueOrDefault(kind);
            ranks.Add(rank);
            rankOf[kind] = rank + 1;
            return true;
        }

        for (int b = 0; b < 256; b++) Add("<0x" + b.ToString("X2", CultureInfo.InvariantCulture) + ">", SyntheticTokenKind.Byte);
        Add(SpaceMark, SyntheticTokenKind.Space);
        foreach (char c in Letters + Digits + Capitals) Add(c.ToString(), SyntheticTokenKind.Character);
        foreach (char c in PauseMarks) Add(c.ToString(), SyntheticTokenKind.Pause);
        foreach (char c in EndMarks) Add(c.ToString(), SyntheticTokenKind.SentenceEnd);

        // A word's leading parts go in first, so each piece is one known piece plus one character.
        void AddWord(string word, bool spaced)
        {
            string full = spaced ? SpaceMark + word : word;
            for (int len = 2; len < full.Length; len++) Add(full[..len], spaced ? SyntheticTokenKind.WordPrefix : SyntheticTokenKind.Fragment);
            Add(full, spaced ? SyntheticTokenKind.Word : SyntheticTokenKind.Fragment);
        }

        int fragment = 0;
        for (int w = 0; w < CommonWords.Length && tokens.Count < size; w++)
        {
            AddWord(CommonWords[w], true);
            // Interleave fragments so small vocabularies get a few of them too.
            if (w % 6 == 5 && fragment < Fragments.Length) AddWord(Fragments[fragment++], false);
        }
        while (fragment < Fragments.Length && tokens.Count < size) AddWord(Fragments[fragment++], false);

        // Pseudo-words built from syllables fill the rest, deterministically.
        var rng = new DeterministicRandom(0x5EED_0F_70CE45UL);
        int attempts = 0;
        while (tokens.Count < size)
        {
            if (++attempts > size * 200) throw new InvalidOperationException("could not generate enough distinct pseudo-words");
            int syllables = 1 + rng.NextInt(3);
            var word = new System.Text.StringBuilder();
            for (int s = 0; s < syllables; s++)
            {
                word.Append(Onsets[rng.NextInt(Onsets.Length)]);
                word.Append(Vowels[rng.NextInt(Vowels.Length)]);
                if (s == syllables - 1 || rng.NextInt(3) == 0) word.Append(Codas[rng.NextInt(Codas.Length)]);
            }
            if (word.Length >= 2) AddWord(word.ToString(), true);
        }
        return new SyntheticVocabulary(tokens, kinds, ranks);
    }
}
