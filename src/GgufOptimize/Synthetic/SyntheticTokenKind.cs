namespace GgufOptimize.Synthetic;

/// <summary>What a synthetic vocabulary entry is; decides its token type, its frequency and its role in the toy grammar.</summary>
internal enum SyntheticTokenKind
{
    /// <summary>&lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;.</summary>
    Control,
    /// <summary>&lt;0x00&gt;..&lt;0xFF&gt;, the byte fallback.</summary>
    Byte,
    /// <summary>"▁" on its own.</summary>
    Space,
    /// <summary>A single letter or digit.</summary>
    Character,
    /// <summary>Punctuation that continues a sentence (",", ";", ...).</summary>
    Pause,
    /// <summary>Punctuation that ends a sentence (".", "!", "?").</summary>
    SentenceEnd,
    /// <summary>A whole word with its "▁" prefix.</summary>
    Word,
    /// <summary>A leading part of a word ("▁th"), there so the SentencePiece merges can reach the word.</summary>
    WordPrefix,
    /// <summary>A piece without "▁" that continues a word ("ing", "ed").</summary>
    Fragment,
}
