using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using GgufOptimize.Datasets.Selection;
using GgufOptimize.Common;

namespace GgufOptimize.Datasets.Output;

/// <summary>
/// Writes the first entries of a <see cref="SubsetPlan"/> to a file, hashing as it goes. Text format separates samples
/// with a blank line and ends with a newline, so a smaller subset's file is always a byte prefix of a larger one's.
/// </summary>
internal sealed class SubsetFileWriter(SpillStore spill, IReadOnlyList<IReadOnlyList<HeldSample>> selected, IReadOnlyList<string> languages,
    bool writeLanguage, DatasetFormat format)
{
    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private byte[] _buffer = new byte[1 << 16];

    public SubsetRecord Write(string path, IReadOnlyList<(int Language, int Index)> order, int count, CancellationToken cancellationToken)
    {
        var record = new SubsetRecord();
        foreach (var language in languages) record.Languages[language] = new LanguageCount();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using (var file = FileStep.Create(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            var output = new HashingStream(file, hash);
            using var json = new Utf8JsonWriter(output, JsonOptions);
            for (int i = 0; i < count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (language, index) = order[i];
                var sample = selected[language][index];
                var text = Load(sample);
                if (format == DatasetFormat.Jsonl)
                {
                    json.Reset(output);
                    json.WriteStartObject();
                    json.WriteString("text"u8, text);
                    if (writeLanguage) json.WriteString("lang"u8, languages[language]);
                    json.WriteEndObject();
                    json.Flush();
                    output.Write("\n"u8);
                }
                else
                {
                    if (i > 0) output.Write("\n\n"u8);
                    output.Write(text);
                }
                var counts = record.Languages[languages[language]];
                counts.Samples++;
                counts.Chars += sample.Chars;
                if (sample.Tokens >= 0) counts.Tokens = (counts.Tokens ?? 0) + sample.Tokens;
            }
            if (format == DatasetFormat.Text && count > 0) output.Write("\n"u8);
            FileStep.Sync(file);
            record.Bytes = file.Length;
        }
        record.Sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
        record.Samples = record.Languages.Values.Sum(c => c.Samples);
        record.Chars = record.Languages.Values.Sum(c => c.Chars);
        record.Tokens = record.Languages.Values.All(c => c.Tokens is not null || c.Samples == 0) && record.Languages.Values.Any(c => c.Tokens is not null)
            ? record.Languages.Values.Sum(c => c.Tokens ?? 0) : null;
        return record;
    }

    private ReadOnlySpan<byte> Load(in HeldSample sample)
    {
        if (_buffer.Length < sample.ByteLength) _buffer = new byte[Math.Max(sample.ByteLength, _buffer.Length * 2)];
        var span = _buffer.AsSpan(0, sample.ByteLength);
        spill.Read(sample.SpillOffset, span);
        return span;
    }

    /// <summary>Forwards writes to the file and to the running SHA-256.</summary>
    private sealed class HashingStream(Stream inner, IncrementalHash hash) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            hash.AppendData(buffer);
            inner.Write(buffer);
        }
    }
}
