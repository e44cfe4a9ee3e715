using System.Security.Cryptography;
using System.Text;
using GgufOptimize.Engine;
using GgufOptimize.Tests.Support;

namespace GgufOptimize.Tests.Engine;

/// <summary>
/// The vocabulary calls made once per run (tokenizing the dataset, the tokenizer fingerprint) were rewritten for
/// start-up speed; their results must be exactly what the straightforward calls give: LLamaSharp's own Tokenize, and
/// SHA-256 over every token's piece followed by FF 00, token by token.
/// </summary>
public class VocabularyCallsTests
{
    public static TheoryData<string> Models => new() { "aidreams", "tiny-random" };

    private static string ModelPath(string name) => name == "aidreams" ? SharedAssets.AidreamsModel : SharedAssets.TinyRandomLlama2;

    [SkippableTheory]
    [MemberData(nameof(Models))]
    public void Tokenize_equals_LLamaSharps_tokenize(string name)
    {
        using var model = LlamaModel.Load(ModelPath(name), vocabOnly: true);
        string sample = File.ReadAllText(SharedAssets.AidreamsText);
        string[] texts =
        [
            sample,
            "a",
            " ",
            "  leading spaces and trailing  ",
            "<s> special syntax </s> is plain text here <unk>",
            "héllo wörld — ünïcödé ✓ 日本語のテキスト 🙂🙂",
            "lone surrogate \ud800 in the middle",
            "\n\n\t\r\n",
            new string('x', 5000),
        ];
        foreach (string text in texts)
        {
            var expected = model.Handle.Tokenize(text, false, false, Encoding.UTF8).Select(t => (int)t).ToArray();
            Assert.Equal(expected, model.Tokenize(text));
        }
        Assert.Empty(model.Tokenize(""));
    }

    [SkippableTheory]
    [Slow]
    [MemberData(nameof(Models))]
    public void Texts_tokenized_in_two_halves_at_once_equal_one_call(string name)
    {
        // From TextPieces.ParallelChars on, a text is cut once near the middle and its halves tokenized on two threads.
        using var model = LlamaModel.Load(ModelPath(name), vocabOnly: true);
        string folder = Path.Combine(SharedAssets.RequireRoot(), "data", "polyglot");
        var texts = new[] { "calib-en.txt", "calib-de.txt", "calib-fr.txt", "calib-es.txt" }
            .Select(f => File.ReadAllText(Path.Combine(folder, f))[..(TextPieces.ParallelChars * 2)])
            .Append(string.Concat(Enumerable.Repeat("日本語のテキストに空白はない。", TextPieces.ParallelChars / 10)))
            .Append(new string('a', TextPieces.ParallelChars + 1));
        foreach (string text in texts)
        {
            var expected = model.Handle.Tokenize(text, false, false, Encoding.UTF8).Select(t => (int)t).ToArray();
            Assert.Equal(expected, model.Tokenize(text));
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Models))]
    public void Fingerprint_is_the_hash_of_every_piece_in_id_order(string name)
    {
        using var model = LlamaModel.Load(ModelPath(name), vocabOnly: true);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (int id = 0; id < model.VocabSize; id++)
        {
            hash.AppendData(model.TokenBytes(id));
            hash.AppendData([0xFF, 0x00]);
        }
        Assert.Equal(Convert.ToHexStringLower(hash.GetHashAndReset()), model.TokenizerFingerprint());
    }

    [SkippableFact]
    public void Fingerprints_of_the_shared_models_are_the_recorded_ones()
    {
        // Recorded before the start-up rewrite: stored baselines carry these, so they must never change.
        using var aidreams = LlamaModel.Load(SharedAssets.AidreamsModel, vocabOnly: true);
        using var tiny = LlamaModel.Load(SharedAssets.TinyRandomLlama2, vocabOnly: true);
        Assert.Equal("42a153390960c615aa4d50fd62563c385490232072537b02af3c579b43ab3b27", aidreams.TokenizerFingerprint());
        Assert.Equal("f7aeb457e62754159ea66e12681a74c5dbf457acdf442ac9eb4f56fddea3d4a2", tiny.TokenizerFingerprint());
    }
}
