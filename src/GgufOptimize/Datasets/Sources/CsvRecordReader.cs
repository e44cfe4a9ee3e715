namespace GgufOptimize.Datasets.Sources;

/// <summary>
/// RFC 4180 records read from bytes (quoted fields may span lines, <c>""</c> is a quote), so field text can be
/// UTF-8-checked afterwards. A record with text after a closing quote or an unterminated quote is reported as
/// malformed; one longer than the limit is reported as oversized without being kept.
/// </summary>
internal sealed class CsvRecordReader(Stream stream, byte delimiter, int maxRecordBytes)
{
    public enum Kind { Record, Malformed, Oversized, End }

    private readonly byte[] _input = new byte[64 * 1024];
    private int _inputPos;
    private int _inputEnd;
    private bool _eof;
    private byte[] _record = new byte[4096];
    private int _recordLength;
    private bool _tooLong;
    private readonly List<int> _fieldEnds = [];
    private long _line = 1;

    /// <summary>1-based line on which the record returned last starts.</summary>
    public long RecordLine { get; private set; }
    public long BytesRead { get; private set; }
    public int FieldCount => _fieldEnds.Count;

    public ReadOnlySpan<byte> Field(int index)
    {
        int start = index == 0 ? 0 : _fieldEnds[index - 1];
        return _record.AsSpan(start, _fieldEnds[index] - start);
    }

    public Kind Next()
    {
        // Blank lines between records are not records.
        while (Peek() is '\n' or '\r') Take();
        if (Peek() < 0) return Kind.End;
        RecordLine = _line;
        _recordLength = 0;
        _tooLong = false;
        _fieldEnds.Clear();
        while (true)
        {
            if (Peek() == '"')
            {
                Take();
                while (true)
                {
                    int c = Take();
                    if (c < 0) return Kind.Malformed;
                    if (c == '"')
                    {
                        if (Peek() != '"') break;
                        Take();
                    }
                    Append((byte)c);
                }
                int after = Take();
                if (after == '\r' && Peek() == '\n') after = Take();
                if (after == delimiter) { EndField(); continue; }
                if (after is '\n' or < 0) { EndField(); return Finish(); }
                SkipLine();
                return Kind.Malformed;
            }
            while (true)
            {
                int c = Take();
                if (c == delimiter) { EndField(); break; }
                if (c is '\n' or < 0)
                {
                    if (_recordLength > 0 && _record[_recordLength - 1] == '\r' && (_fieldEnds.Count == 0 || _fieldEnds[^1] < _recordLength)) _recordLength--;
                    EndField();
                    return Finish();
                }
                Append((byte)c);
            }
        }
    }

    private Kind Finish() => _tooLong ? Kind.Oversized : Kind.Record;

    private void EndField() => _fieldEnds.Add(_recordLength);

    private void Append(byte b)
    {
        if (_tooLong) return;
        if (_recordLength == maxRecordBytes)
        {
            _tooLong = true;
            _recordLength = 0;
            return;
        }
        if (_recordLength == _record.Length) Array.Resize(ref _record, Math.Min(_record.Length * 2, maxRecordBytes));
        _record[_recordLength++] = b;
    }

    private void SkipLine()
    {
        int c;
        do c = Take(); while (c is not ('\n' or < 0));
    }

    private int Peek()
    {
        if (_inputPos == _inputEnd && !Fill()) return -1;
        return _input[_inputPos];
    }

    private int Take()
    {
        if (_inputPos == _inputEnd && !Fill()) return -1;
        byte b = _input[_inputPos++];
        if (b == '\n') _line++;
        return b;
    }

    private bool Fill()
    {
        if (_eof) return false;
        _inputEnd = stream.Read(_input, 0, _input.Length);
        _inputPos = 0;
        BytesRead += _inputEnd;
        if (_inputEnd == 0) _eof = true;
        return !_eof;
    }
}
