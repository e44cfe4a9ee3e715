namespace GgufOptimize.Datasets.Sources;

/// <summary>
/// Reads a stream as raw byte lines (LF or CRLF, a leading UTF-8 BOM dropped) so UTF-8 validity can be checked per
/// record. A line longer than the limit is skipped while streaming past it, so memory stays bounded by the limit.
/// </summary>
internal sealed class Utf8LineReader
{
    private readonly Stream _stream;
    private readonly int _maxLineBytes;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private bool _eof;
    private bool _atStart = true;

    public Utf8LineReader(Stream stream, int maxLineBytes)
    {
        _stream = stream;
        _maxLineBytes = maxLineBytes;
        _buffer = new byte[Math.Min(64 * 1024, maxLineBytes + 1)];
    }

    /// <summary>1-based number of the line returned last.</summary>
    public long LineNumber { get; private set; }

    /// <summary>Bytes taken from the stream so far.</summary>
    public long BytesRead { get; private set; }

    /// <summary>
    /// Returns false at the end. Otherwise <paramref name="line"/> holds the line without its terminator (valid until
    /// the next call), or is empty with <paramref name="oversized"/> set when the line exceeded the limit.
    /// </summary>
    public bool ReadLine(out ReadOnlyMemory<byte> line, out bool oversized)
    {
        oversized = false;
        int scanFrom = _start;
        while (true)
        {
            int newline = _buffer.AsSpan(scanFrom, _end - scanFrom).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                int lineEnd = scanFrom + newline;
                line = Finish(_start, lineEnd);
                _start = lineEnd + 1;
                return Limit(ref line, out oversized);
            }
            if (_eof)
            {
                if (_start == _end) { line = default; return false; }
                line = Finish(_start, _end);
                _start = _end;
                return Limit(ref line, out oversized);
            }
            int pending = _end - _start;
            if (pending > _maxLineBytes)
            {
                SkipPastNewline();
                LineNumber++;
                _atStart = false;
                oversized = true;
                line = default;
                return true;
            }
            MakeRoom();
            scanFrom = _start + pending;
            Fill();
        }
    }

    private bool Limit(ref ReadOnlyMemory<byte> line, out bool oversized)
    {
        // The buffer may have grown for an earlier line, so a complete line can still be over the limit.
        oversized = line.Length > _maxLineBytes;
        if (oversized) line = default;
        return true;
    }

    private ReadOnlyMemory<byte> Finish(int from, int to)
    {
        LineNumber++;
        if (to > from && _buffer[to - 1] == (byte)'\r') to--;
        if (_atStart)
        {
            _atStart = false;
            if (to - from >= 3 && _buffer[from] == 0xEF && _buffer[from + 1] == 0xBB && _buffer[from + 2] == 0xBF) from += 3;
        }
        return _buffer.AsMemory(from, to - from);
    }

    private void MakeRoom()
    {
        int pending = _end - _start;
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, pending);
            _start = 0;
            _end = pending;
        }
        if (_end == _buffer.Length)
        {
            // Grow up to one byte past the limit: enough to tell "too long" from "exactly at the limit".
            int size = (int)Math.Min((long)_buffer.Length * 2, _maxLineBytes + 2L);
            Array.Resize(ref _buffer, Math.Max(size, _buffer.Length + 1));
        }
    }

    private void Fill()
    {
        int n = _stream.Read(_buffer, _end, _buffer.Length - _end);
        if (n == 0) _eof = true;
        _end += n;
        BytesRead += n;
    }

    private void SkipPastNewline()
    {
        _start = _end = 0;
        while (!_eof)
        {
            Fill();
            int newline = _buffer.AsSpan(0, _end).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                _start = newline + 1;
                return;
            }
            _end = 0;
        }
    }
}
