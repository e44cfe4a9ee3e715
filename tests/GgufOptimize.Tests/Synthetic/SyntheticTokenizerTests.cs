using System.Text;
using GgufOptimize.Engine;
using GgufOptimize.Synthetic;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Synthetic;

public class SyntheticTokenizerTests
{
    [Theory]
    [InlineData(512)]
    [InlineData(32000)]
    public void Llama_cpp_tokenizes_any_utf8_and_detokenizes_it_back(int vocabSize)
    {
        using var dir = new TempDir();
        string path = dir.File("m.gguf");
        SyntheticModel.Write(path, new SyntheticModelOptions { VocabSize = vocabSize, EmbeddingLength = 32, LayerCount = 1, HeadCount = 2 });
        using var model = LlamaModel.Load(path);

        string[] texts =
        [
            "the people of the river",
            "Hello, World! 123 numbers; and (brackets).",
            "Emoji 😀🚀 and CJK 日本語の文章 and 한국어",
            "Ünïcödé àccents — em dash, «quotes» and tabs\tinside",
            "  leading and trailing spaces  ",
            "Zxqv wrbl: unknown words fall back to characters",
        ];
        foreach (var text in texts)
        {
            var tokens = model.Tokenize(text);
            Assert.NotEmpty(tokens);
            Assert.DoesNotContain(SyntheticVocabulary.Unknown, tokens);
            var bytes = tokens.SelectMany(model.TokenBytes).ToArray();
            // llama.cpp's SentencePiece mode prefixes one space; detokenizing shows it.
            Assert.Equal(" " + text, Encoding.UTF8.GetString(bytes));
        }
        // Byte fallback: an emoji is four byte tokens.
        Assert.Equal(4, model.Tokenize("😀").Count(t => t is >= SyntheticVocabulary.FirstByte and < SyntheticVocabulary.FirstByte + 256));
        // Words of the vocabulary become single tokens.
        Assert.Single(model.Tokenize("the"));
        if (vocabSize >= 32000) Assert.Single(model.Tokenize("people"));
    }

    [Fact]
    public void Vocabulary_is_complete_and_consistent()
    {
        var v = SyntheticVocabulary.Build(32000);
        Assert.Equal(32000, v.Count);
        Assert.Equal(32000, v.Tokens.Distinct().Count());
        Assert.Equal(["<unk>", "<s>", "</s>", "<0x00>"], v.Tokens.Take(4));
        Assert.Equal("<0xFF>", v.Tokens[258]);
        Assert.Equal(2, v.TokenTypes[0]);
        Assert.Equal(3, v.TokenTypes[1]);
        Assert.Equal(3, v.TokenTypes[2]);
        Assert.All(Enumerable.Range(3, 256), i => Assert.Equal(6, v.TokenTypes[i]));
        Assert.All(Enumerable.Range(259, 32000 - 259), i => Assert.Equal(1, v.TokenTypes[i]));
        // Every multi-character piece extends a shorter piece by one character, so merges can reach it.
        for (int i = 259; i < v.Count; i++)
        {
            var piece = v.Tokens[i];
            var chars = System.Globalization.StringInfo.ParseCombiningCharacters(piece);
            if (chars.Length > 1) Assert.NotNull(v.IdOf(piece[..chars[^1]]));
        }
        // Scores fall with the id so earlier, shorter pieces merge first.
        Assert.True(v.Scores[300] > v.Scores[301]);
        // A small vocabulary is the start of a large one.
        Assert.Equal(v.Tokens.Take(1024), SyntheticVocabulary.Build(1024).Tokens);
        Assert.Equal(SyntheticTokenKind.Word, v.Kinds[v.IdOf("\u2581the")!.Value]);
    }
}
