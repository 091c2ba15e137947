"""`AnswerEnd` finds where an answer ends exactly where h11 (httpcore's parser) does.

The oracle is h11 itself: fed the whole byte stream (an answer, then what the server
sent after it), it says where the answer ends (`trailing_data`). `AnswerEnd` is fed the
same bytes cut into reads the way httpcore reads them (it stops reading at the answer's
end): it must end there too, and call the connection spoiled exactly when bytes past the
end were read. Answers cover every path: Content-Length, chunked (split anywhere, with
extensions and trailer fields), 1xx first, HEAD, 204/304, folded lines; an answer
without length runs to the end of the stream (never reused).
Pure computation: no socket, no clock.
"""

from __future__ import annotations

import h11
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dyte_async._transport._answer_end import CHUNKED, MAX_HEAD, AnswerEnd, framing

BODY = b'{"success": true, "data": {"id": "ls-1", "stream_key": "sk-1"}}'


def head(*lines: bytes, status: bytes = b"200 OK", eol: bytes = b"\r\n") -> bytes:
    return eol.join([b"HTTP/1.1 " + status, *lines]) + eol + eol


def chunked_body(*chunks: bytes, last: bytes = b"0\r\n\r\n") -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + last


LENGTH = head(b"Content-Type: application/json", b"Content-Length: %d" % len(BODY)) + BODY
CHUNKS = head(b"Transfer-Encoding: chunked") + chunked_body(BODY[:10], BODY[10:])

#: (name, method, answer): every path of `AnswerEnd`.
ANSWERS: list[tuple[str, bytes, bytes]] = [
    ("length", b"GET", LENGTH),
    ("length, bare LF", b"POST", head(b"Content-Length: 2", eol=b"\n") + b"{}"),
    ("length 0", b"DELETE", head(b"Content-Length: 0")),
    ("length, no space", b"GET", head(b"content-length:2") + b"{}"),
    ("length, HTTP/1.0", b"GET", head(b"Content-Length: 2").replace(b"1.1", b"1.0", 1) + b"{}"),
    ("length, no reason", b"GET", b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\n{}"),
    ("same length twice", b"GET", head(b"Content-Length: 2", b"Content-Length: 2") + b"{}"),
    ("length list", b"GET", head(b"Content-Length: 2, 2") + b"{}"),
    ("chunked", b"GET", CHUNKS),
    ("chunked, big", b"GET", head(b"Transfer-Encoding: chunked") + chunked_body(b"x" * 70000)),
    (
        "chunked and length",
        b"GET",
        head(b"Transfer-Encoding: chunked", b"Content-Length: 3") + chunked_body(b"abc"),
    ),
    (
        "chunked, upper hex",
        b"GET",
        head(b"Transfer-Encoding: Chunked") + b"A\r\n0123456789\r\n0\r\n\r\n",
    ),
    ("chunked, zeros", b"GET", head(b"Transfer-Encoding: chunked") + b"002\r\n{}\r\n000\r\n\r\n"),
    ("chunked, LF trailer", b"GET", head(b"Transfer-Encoding: chunked") + b"2\r\n{}\r\n0\r\n\n"),
    ("chunk extension", b"GET", head(b"Transfer-Encoding: chunked") + b"2;a=b\r\n{}\r\n0\r\n\r\n"),
    (
        "trailer fields",
        b"GET",
        head(b"Transfer-Encoding: chunked")
        + chunked_body(b"{}", last=b"0\r\nX-Checksum: 1\r\n\r\n"),
    ),
    ("204", b"DELETE", head(b"Content-Length: 5", status=b"204 No Content")),
    ("304", b"GET", head(b"Content-Length: 5", status=b"304 Not Modified")),
    ("100 first", b"POST", head(status=b"100 Continue") + LENGTH),
    ("HEAD", b"HEAD", head(b"Content-Length: 50")),
    ("folded line", b"GET", head(b"X-A: 1", b" more", b"Content-Length: 2") + b"{}"),
]

#: What a server may send after an answer.
EXTRAS = [
    b"",
    b"JUNK",
    b"\r\n",
    b"\n",
    LENGTH,
    LENGTH[:20],
    CHUNKS,
    b"0\r\n\r\n",
]


def state(answer: AnswerEnd) -> tuple[bool, bool]:
    return answer.ended, answer.spoiled


def oracle(method: bytes, stream: bytes) -> int | None:
    """Where h11 ends the answer to `method` in `stream` (None: not within it)."""
    parser = h11.Connection(h11.CLIENT)
    parser.send(h11.Request(method=method, target=b"/", headers=[(b"host", b"x")]))
    parser.send(h11.EndOfMessage())
    parser.receive_data(stream)
    while True:
        event = parser.next_event()
        if event is h11.NEED_DATA:
            return None
        if isinstance(event, h11.EndOfMessage):
            return len(stream) - len(parser.trailing_data[0])


def reads(stream: bytes, cuts: list[int], end: int) -> list[bytes]:
    """`stream` cut at `cuts` into reads, as httpcore reads: none after the one holding
    the answer's last byte (`end`)."""
    pieces = []
    start = 0
    for cut in [*sorted(set(cuts)), len(stream)]:
        if start >= end:
            break
        if cut > start:
            pieces.append(stream[start:cut])
            start = cut
    return pieces


def check(method: bytes, stream: bytes, cuts: list[int]) -> None:
    end = oracle(method, stream)
    assert end is not None
    answer = AnswerEnd(method)
    pieces = reads(stream, cuts, end)
    for piece in pieces:
        assert not answer.ended
        answer.feed(piece)
    read = sum(map(len, pieces))
    assert answer.ended
    assert answer.spoiled == (read > end), (read, end)


@pytest.mark.parametrize("extra", EXTRAS, ids=range(len(EXTRAS)))
@pytest.mark.parametrize(("name", "method", "answer"), ANSWERS, ids=[a[0] for a in ANSWERS])
def test_every_cut_in_two_reads(name: str, method: bytes, answer: bytes, extra: bytes) -> None:
    stream = answer + extra
    step = max(1, len(stream) // 400)
    for cut in range(0, len(stream), step):
        check(method, stream, [cut])


@settings(max_examples=300, deadline=None)
@given(
    which=st.sampled_from(ANSWERS),
    extra=st.sampled_from(EXTRAS),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=8),
)
def test_any_cuts(which: tuple[str, bytes, bytes], extra: bytes, cuts: list[int]) -> None:
    _, method, answer = which
    check(method, answer + extra, cuts)


def test_one_byte_at_a_time() -> None:
    for _, method, answer in ANSWERS:
        stream = answer + LENGTH
        check(method, stream, list(range(len(stream))))


def test_an_answer_that_ends_with_the_stream_is_never_reused() -> None:
    answer = AnswerEnd(b"GET")
    answer.feed(head(b"Content-Type: text/plain") + b"until the end")
    assert state(answer) == (False, False)
    answer.feed(b"")
    assert state(answer) == (True, True)


@pytest.mark.parametrize(
    "stream",
    [
        LENGTH[:30],  # the head never ends
        head(b"Content-Length: 50") + b"{}",  # the body never ends
        head(b"Transfer-Encoding: chunked") + b"5\r\nab",
    ],
)
def test_a_stream_ending_early_spoils(stream: bytes) -> None:
    answer = AnswerEnd(b"GET")
    answer.feed(stream)
    assert state(answer) == (False, False)
    answer.feed(b"")
    assert state(answer) == (True, True)


@pytest.mark.parametrize(
    "stream",
    [
        b"JUNK\r\n\r\n",
        b"\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        head(b"Transfer-Encoding: gzip") + b"x",
        head(b"Transfer-Encoding: chunked") + b"zz\r\n",
    ],
)
def test_what_h11_refuses_spoils(stream: bytes) -> None:
    # (Not all of it needs to: httpcore closes a connection whose answer h11 refused.)
    answer = AnswerEnd(b"GET")
    answer.feed(stream)
    answer.feed(b"more")
    assert answer.spoiled


def test_a_head_past_the_limit_spoils() -> None:
    answer = AnswerEnd(b"GET")
    answer.feed(b"HTTP/1.1 200 OK\r\nX: ")
    for _ in range(MAX_HEAD // 65536 + 1):
        answer.feed(b"x" * 65536)
    assert answer.ended
    assert answer.spoiled


def test_bytes_after_the_end_spoil() -> None:
    answer = AnswerEnd(b"GET")
    answer.feed(LENGTH)
    assert answer.ended
    assert not answer.spoiled
    answer.feed(b"x")
    assert answer.spoiled


@pytest.mark.parametrize(
    ("head_", "method", "expected"),
    [
        (head(b"Content-Length: 12"), b"GET", 12),
        (head(b"Content-Length: 12", status=b"204 No Content"), b"GET", 0),
        (head(b"Transfer-Encoding: chunked", b"Content-Length: 12"), b"GET", CHUNKED),
        (head(b"Content-Length: 12"), b"HEAD", None),
        (head(status=b"101 Switching Protocols"), b"GET", None),
        (head(b"Content-Length: 1", b"Content-Length: 1"), b"GET", None),
        (head(b"Content-Length: x"), b"GET", None),
        (head(b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked"), b"GET", None),
        (head(b"Content-Type: a"), b"GET", None),
        (b"HTTP/1.1 2000 OK\r\nContent-Length: 1\r\n\r\n", b"GET", None),
        (b"FTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n", b"GET", None),
    ],
)
def test_framing(head_: bytes, method: bytes, expected: int | str | None) -> None:
    assert framing(head_, method) == expected
