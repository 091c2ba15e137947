"""`AnswerEnd`: where the answer to one HTTP/1.1 request ends in the bytes read after it.

It reads the bytes by h11's rules (httpcore's parser), so that it finds the end where
httpcore's h11 finds it, and says whether any byte was read past that end: such bytes
would be taken, on a reused connection, as the answer to the next request.

Assuming h11 accepted the answer (if it did not, httpcore closed the connection and
nothing here matters):

- its head ends at the first blank line (h11: `\\n\\r?\\n`); a final status, and the
  framing from the head (`framing`, h11's `_body_framing`): no body for 204, 304;
  `Transfer-Encoding: chunked` before `Content-Length`;
- a `Content-Length` body is counted; a chunked body is walked chunk by chunk (a line of
  hex digits and CRLF, the data and CRLF; the last chunk, then an empty trailer);
- anything else (1xx first, `HEAD`, no length, folded lines, chunk extensions, trailer
  fields) is read by an h11 parser of our own, sent a request of the same method: the
  whole answer, or the rest of a chunked body from a chunk's first line (h11's chunk
  reader keeps no state between chunks), after a minimal head of the same framing;
- what none can follow (the end of the stream, a parser error, a head past `MAX_HEAD`)
  counts as spoiled: the connection is then not reused, which is always safe.

The API's answers take the first two paths: a regex search and a split of the head, a
count or a `find` per chunk (a few microseconds). Pure computation, no I/O:
`_reuse.GuardedStream` feeds it what it reads.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import h11

__all__ = ["MAX_HEAD", "AnswerEnd", "framing"]

#: The end of a head, as h11 finds it (h11/_receivebuffer.py `blank_line_regex`).
_BLANK_LINE = re.compile(b"\n\r?\n")
#: The most head (or chunk line) bytes waited for. httpcore's h11 gives up at 100 KiB
#: (`AsyncHTTP11Connection.MAX_INCOMPLETE_EVENT_SIZE`); ours allows more, never less.
MAX_HEAD = 1024 * 1024
#: h11's longest chunk size (`chunk_size` in h11/_abnf.py: 1 to 20 hex digits).
_MAX_CHUNK_DIGITS = 20
_HEX = frozenset(b"0123456789abcdefABCDEF")
#: The head our parser reads before the rest of a chunked body.
_CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"

CHUNKED = "chunked"

# How the bytes fed are read.
_HEAD, _LENGTH, _CHUNKS, _PARSER = range(4)


class AnswerEnd:
    """Follows one answer through the bytes read after its request (module docstring).

    Args:
        method: the request's method (`HEAD` answers have no body).

    Attributes:
        reading: a read happened (the request was sent, its answer is being read).
        ended: the answer's last byte was read (or it could not be followed).
        spoiled: bytes were read past the answer's end, or the answer could not be
            followed: the connection must carry no other request.
    """

    __slots__ = (
        "_buffer",
        "_left",
        "_method",
        "_mode",
        "_parser",
        "_searched",
        "ended",
        "reading",
        "spoiled",
    )

    def __init__(self, method: bytes) -> None:
        self._method = method
        #: bytes read but not accounted for yet: the head, or a chunk's first line.
        self._buffer = bytearray()
        #: how far `_buffer` was searched already (each byte is searched once).
        self._searched = 0
        self._mode = _HEAD
        #: _LENGTH: body bytes to come; _CHUNKS: bytes of the chunk and its CRLF to skip.
        self._left = 0
        self._parser: h11.Connection | None = None
        self.reading = False
        self.ended = False
        self.spoiled = False

    def feed(self, data: bytes) -> None:
        """Take the next bytes read from the connection (`b""`: its end).

        Args:
            data: what the read returned.
        """
        self.reading = True
        if self.ended:
            if data:
                self.spoiled = True
        elif not data:  # the stream ended before the answer did: never reusable
            self._give_up()
        elif self._mode == _LENGTH:
            self._count(len(data))
        elif self._mode == _CHUNKS:
            self._walk(data)
        elif self._mode == _PARSER:
            self._parse(data)
        else:
            self._read_head(data)

    def _give_up(self) -> None:
        self.ended = self.spoiled = True
        self._parser = None
        self._buffer = bytearray()

    def _end(self, extra: int) -> None:
        """The answer ended, `extra` bytes of what was read after it."""
        self.ended = True
        self.spoiled = extra > 0
        self._buffer = bytearray()

    def _pending(self, data: bytes | bytearray) -> bytes | bytearray:
        """`data` after what is pending (no copy when nothing is)."""
        if not self._buffer:
            return data
        self._buffer += data
        return self._buffer

    def _wait(self, data: bytes | bytearray, start: int, searched: int) -> None:
        """Keep `data[start:]` (searched up to `searched`) for the next read."""
        if data is self._buffer:
            del self._buffer[:start]
        else:
            self._buffer = bytearray(data[start:])
        self._searched = searched
        if len(self._buffer) > MAX_HEAD:
            self._give_up()

    def _count(self, count: int) -> None:
        if count >= self._left:
            self._end(count - self._left)
        else:
            self._left -= count

    def _read_head(self, data: bytes) -> None:
        head = self._pending(data)
        match = _BLANK_LINE.search(head, max(0, self._searched - 2))
        if match is None:
            self._wait(head, 0, len(head))
            return
        end = match.end()
        found = framing(bytes(head[:end]), self._method)
        self._buffer, self._searched = bytearray(), 0
        if found is None:
            self._start_parser(bytes(head), self._method)
        elif found == CHUNKED:
            self._mode = _CHUNKS
            if end < len(head):
                self._walk(head[end:])
        else:
            assert isinstance(found, int)
            self._mode, self._left = _LENGTH, found
            self._count(len(head) - end)

    def _walk(self, data: bytes | bytearray) -> None:
        """Skip chunks: a line of hex digits and CRLF, the data and its CRLF; the last
        chunk (size 0) and an empty trailer end the body."""
        start = 0
        if self._left:
            start = min(self._left, len(data))
            self._left -= start
            if self._left:
                return
        search = max(0, self._searched - 1) if self._buffer else start
        data = self._pending(data)
        self._searched = 0
        size = len(data)
        while start < size:
            line_end = data.find(b"\r\n", search)
            if line_end < 0:
                self._wait(data, start, size - start)
                return
            digits = data[start:line_end]
            if not 0 < len(digits) <= _MAX_CHUNK_DIGITS or not _HEX.issuperset(digits):
                # a chunk extension, or what h11 refuses: h11 reads it from this line
                self._start_parser(_CHUNKED_HEAD + data[start:], b"GET")
                return
            chunk = int(digits, 16)
            if not chunk:  # the last chunk: then the trailer
                after = data[line_end + 2 : line_end + 4]
                if after[:1] == b"\n":
                    self._end(size - line_end - 3)
                elif after == b"\r\n":
                    self._end(size - line_end - 4)
                elif after in (b"", b"\r"):  # not read yet: wait for it, from this line
                    self._wait(data, start, 0)
                else:  # trailer fields
                    self._start_parser(_CHUNKED_HEAD + data[start:], b"GET")
                return
            start = search = line_end + 2 + chunk + 2
            if start > size:
                self._buffer = bytearray()
                self._left = start - size
                return
        self._buffer = bytearray()

    def _start_parser(self, data: bytes | bytearray, method: bytes) -> None:
        """Read from here with an h11 parser, first `data` (a head and what follows),
        for a request of `method`."""
        import h11

        self._mode = _PARSER
        self._buffer = bytearray()
        parser = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
        try:
            parser.send(h11.Request(method=method, target=b"/", headers=[(b"host", b"-")]))
            parser.send(h11.EndOfMessage())
        except h11.ProtocolError:
            self._give_up()
            return
        self._parser = parser
        self._parse(bytes(data))

    def _parse(self, data: bytes) -> None:
        import h11

        parser = self._parser
        assert parser is not None
        try:
            parser.receive_data(data)
            while True:
                event = parser.next_event()
                if event is h11.NEED_DATA:
                    return
                if isinstance(event, h11.EndOfMessage):
                    self._parser = None
                    self._end(len(parser.trailing_data[0]))
                    return
                if isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                    self._give_up()
                    return
        except h11.ProtocolError:
            self._give_up()


def framing(head: bytes, method: bytes) -> int | str | None:
    """How the body of a final answer is framed, as h11 reads it (`_body_framing`).

    Args:
        head: the answer's head, up to and including its blank line.
        method: the request's method.

    Returns:
        The body's length (0 for 204 and 304), `CHUNKED`, or None for anything else:
        informational (1xx), `HEAD` or `CONNECT`, no or several `Content-Length`, a
        folded line, an odd status line (the caller then lets h11 read it).
    """
    if method in (b"HEAD", b"CONNECT"):
        return None
    lines = head.split(b"\n")
    status = lines[0]
    code = status[9:12]
    if not status.startswith(b"HTTP/") or not code.isdigit() or status[12:13] not in b" \r":
        return None
    if code < b"200":
        return None
    if code in (b"204", b"304"):
        return 0
    length: int | None = None
    chunked = False
    for line in lines[1:]:
        if line in (b"", b"\r"):
            continue
        if line[:1] in (b" ", b"\t"):  # obsolete line folding
            return None
        name, _, value = line.partition(b":")
        name = name.lower()
        if name == b"transfer-encoding":
            if chunked or value.strip(b" \t\r").lower() != b"chunked":
                return None
            chunked = True
        elif name == b"content-length":
            value = value.strip(b" \t\r")
            if length is not None or not value.isdigit():
                return None
            length = int(value)
    return CHUNKED if chunked else length
