using System.Text.Json;

namespace GgufOptimize.Datasets.Sources;

/// <summary>
/// Streams the elements of a top-level JSON array without loading the file: each element's bytes are handed out
/// one at a time; elements beyond the size limit are skipped token by token.
/// </summary>
internal sealed class JsonArrayElementReader(Stream stream, int maxElementBytes)
{
    public enum Kind { Element, Oversized, End, Malformed }

    private byte[] _buffer = new byte[Math.Min(64 * 1024, maxElementBytes + 1)];
    private int _pos;
    private int _end;
    private long _discarded;
    private bool _eof;
    private bool _started;
    private JsonReaderState _state;

    /// <summary>Bytes taken from the stream so far.</summary>
    public long BytesRead { get; private set; }

    /// <summary>Where the problem is when <see cref="Next"/> returned <see cref="Kind.Malformed"/>.</summary>
    public string Problem { get; private set; } = "";

    public Kind Next(out ReadOnlyMemory<byte> element)
    {
        element = default;
        try
        {
            if (!_started && !Start()) return Kind.Malformed;
            return NextElement(out element);
        }
        catch (JsonException e)
        {
            Problem = $"invalid{(_eof ? " or truncated" : "")} JSON near byte {_discarded + _pos + (e.BytePositionInLine ?? 0)}";
            return Kind.Malformed;
        }
    }

    private bool Start()
    {
        while (true)
        {
            var reader = new Utf8JsonReader(_buffer.AsSpan(_pos, _end - _pos), _eof, _state);
            if (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    Problem = "the file is not a JSON array";
                    return false;
                }
                Advance(ref reader);
                _started = true;
                return true;
            }
            if (_eof)
            {
                Problem = "the file is empty";
                return false;
            }
            Refill(maxElementBytes);
        }
    }

    private Kind NextElement(out ReadOnlyMemory<byte> element)
    {
        element = default;
        while (true)
        {
            var reader = new Utf8JsonReader(_buffer.AsSpan(_pos, _end - _pos), _eof, _state);
            if (!reader.Read())
            {
                if (_eof) return Truncated();
                Refill(maxElementBytes);
                continue;
            }
            if (reader.TokenType == JsonTokenType.EndArray)
            {
                Advance(ref reader);
                return Kind.End;
            }
            int start = (int)reader.TokenStartIndex;
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && !reader.TrySkip())
            {
                if (_eof) return Truncated();
                if (_end - _pos > maxElementBytes) return SkipOversized();
                Refill(maxElementBytes);
                continue;
            }
            int end = (int)reader.BytesConsumed;
            element = _buffer.AsMemory(_pos + start, end - start);
            Advance(ref reader);
            return Kind.Element;
        }
    }

    /// <summary>Walks through an element too large to hold, keeping only the current token in memory.</summary>
    private Kind SkipOversized()
    {
        while (true)
        {
            var reader = new Utf8JsonReader(_buffer.AsSpan(_pos, _end - _pos), _eof, _state);
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray && reader.CurrentDepth == 1)
                {
                    Advance(ref reader);
                    return Kind.Oversized;
                }
            }
            Advance(ref reader);
            if (_eof) return Truncated();
            // A single token (a huge string) may need more room than the element limit; allow it a bounded overshoot.
            if (!Refill(4L * maxElementBytes))
            {
                Problem = $"a JSON token near byte {_discarded + _pos} is larger than {4L * maxElementBytes} bytes";
                return Kind.Malformed;
            }
        }
    }

    private Kind Truncated()
    {
        Problem = $"the JSON array is truncated at byte {_discarded + _end}";
        return Kind.Malformed;
    }

    private void Advance(ref Utf8JsonReader reader)
    {
        _pos += (int)reader.BytesConsumed;
        _state = reader.CurrentState;
    }

    private bool Refill(long limit)
    {
        int pending = _end - _pos;
        if (_pos > 0)
        {
            Buffer.BlockCopy(_buffer, _pos, _buffer, 0, pending);
            _discarded += _pos;
            _pos = 0;
            _end = pending;
        }
        if (_end == _buffer.Length)
        {
            if (_buffer.Length >= limit + 1) return false;
            Array.Resize(ref _buffer, (int)Math.Min((long)_buffer.Length * 2, limit + 1));
        }
        int n = stream.Read(_buffer, _end, _buffer.Length - _end);
        if (n == 0) _eof = true;
        _end += n;
        BytesRead += n;
        return true;
    }
}
