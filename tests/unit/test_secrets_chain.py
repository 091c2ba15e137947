"""No credential, token or stream key anywhere in an exception a call raises.

`leaks(exc, secrets)` walks the whole chain (`__cause__`, `__context__`) and, for each
exception, its `str`, `repr`, `args` and attributes (`vars()` and slots), and the objects
those carry (an httpx `Request` and its headers, mappings, lists, a backend's request
info), and returns every secret it finds. The answers below plant the API key, the Basic
value, the bearer token and a stream key in every place a server or a library could echo
them; the transports' errors are imitated with the headers attached as aiohttp's are.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from typing import Any

import httpx
import pytest
import respx

from dyte_async import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncDyte,
    DyteError,
    ResponseDecodeError,
)
from dyte_async.cli.output import _error_record, describe
from dyte_async.testing import FakeClock

ORG = "org-7f3a9c"
API_KEY = "key-S3cr3tValue-9d8e7f6a5b4c"
BASIC = base64.b64encode(f"{ORG}:{API_KEY}".encode()).decode()
BEARER = "rtkTokenValue1234abcdEFGH5678"
STREAM_KEY = "sk-live-StreamKey-55aa66bb77cc"
SECRETS = (API_KEY, BASIC, BEARER, STREAM_KEY)
ACTIVE = "/meetings/m1/active-livestream"

pytestmark = pytest.mark.anyio


# -- the scan ----------------------------------------------------------------------------------


def _attributes(obj: Any) -> Iterator[Any]:
    with contextlib.suppress(TypeError):
        yield from vars(obj).values()
    for cls in type(obj).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            if isinstance(slot, str) and hasattr(obj, slot):
                yield getattr(obj, slot)


def texts(root: BaseException) -> Iterator[str]:
    """Every text an exception chain shows or holds, down to its attributes' attributes."""
    seen: set[int] = set()
    todo: list[tuple[Any, int]] = [(root, 0)]
    while todo and len(seen) < 5000:
        obj, depth = todo.pop()
        if id(obj) in seen or depth > 6:
            continue
        seen.add(id(obj))
        if isinstance(obj, (str, bytes)):
            yield obj if isinstance(obj, str) else obj.decode("latin-1")
            continue
        if obj is None or isinstance(obj, (int, float, bool)):
            continue
        try:
            yield repr(obj)
            yield str(obj)
        except Exception:  # a broken repr is not a leak
            pass
        children: list[Any] = []
        if isinstance(obj, BaseException):
            children += [obj.__cause__, obj.__context__, obj.args]
            children += getattr(obj, "__notes__", [])
            with contextlib.suppress(RuntimeError):  # httpx: no request attached
                children.append(getattr(obj, "request", None))
        if isinstance(obj, httpx.Request):
            children += [str(obj.url), list(obj.headers.raw), obj.extensions]
        if isinstance(obj, Mapping):
            children += list(obj.keys()) + list(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            children += list(obj)
        if not isinstance(obj, type) and not callable(obj):
            children += list(_attributes(obj))
        todo.extend((child, depth + 1) for child in children)


def leaks(exc: BaseException, secrets: Iterable[str] = SECRETS) -> set[str]:
    """The secrets found anywhere in `exc`'s chain."""
    found: set[str] = set()
    for text in texts(exc):
        found.update(s for s in secrets if s in text)
    return found


def test_the_scan_finds_what_an_aiohttp_like_error_carries() -> None:
    class RequestInfo:
        def __init__(self, headers: Mapping[str, str]) -> None:
            self.headers = headers

    inner = ValueError("bad answer")
    inner.request_info = RequestInfo({"Authorization": f"Basic {BASIC}"})  # type: ignore[attr-defined]
    outer = RuntimeError("wrapped")
    outer.__cause__ = inner
    assert leaks(outer) == {BASIC}
    req = httpx.Request("GET", "https://x", headers={"Authorization": f"Bearer {BEARER}"})
    assert leaks(httpx.ReadError("x", request=req)) == {BEARER}


# -- clients --------------------------------------------------------------------------------


Factory = Callable[..., AsyncDyte]


@pytest.fixture(params=["dyte", "realtimekit"])
async def make(
    request: pytest.FixtureRequest, router: respx.MockRouter, clock: FakeClock
) -> AsyncIterator[AsyncDyte]:
    transport = httpx.MockTransport(router.async_handler)
    options: dict[str, Any] = {
        "transport": transport,
        "clock": clock,
        "max_retries": 0,
        "base_url": "https://api.dyte.io/v2",
    }
    if request.param == "dyte":
        dyte = AsyncDyte(ORG, API_KEY, **options)
    else:  # a token read from a file, its newline included
        dyte = AsyncDyte.realtimekit("acc", "app", BEARER + "\n", **options)
    async with dyte:
        yield dyte


def echoing(text: str, own: str = API_KEY) -> str:
    """`text` with every secret planted in it, as a careless server would echo them: the
    client's `own` credential bare (masked because the client knows it), the others after
    their names or schemes (masked by their shape)."""
    return (
        f"{text} Authorization: Basic {BASIC} api_key={API_KEY} (got {own}) "
        f"Bearer {BEARER} token={BEARER}, 'stream_key': '{STREAM_KEY}' "
        f"streamKey={STREAM_KEY}&x=1"
    )


def own(dyte: AsyncDyte) -> str:
    """The credential `dyte` sends (and so knows to mask wherever it is echoed)."""
    return BEARER if "realtimekit" in repr(dyte) else API_KEY


def planted_json(own: str) -> dict[str, Any]:
    return {
        "success": False,
        "error": {"code": 401, "message": echoing("bad credentials", own)},
        "echo": {"authorization": f"Basic {BASIC}", "headers": [f"Bearer {BEARER}"]},
        "data": {"stream_key": STREAM_KEY, "livestream": {"stream_key": STREAM_KEY}},
    }


async def raised(coro: Any) -> DyteError:
    with pytest.raises(DyteError) as info:
        await coro
    return info.value


# -- answers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 404, 422, 429, 500, 503])
async def test_an_error_answer_echoing_secrets_leaks_none(make, router, status) -> None:
    router.get(ACTIVE).respond(
        status,
        json=planted_json(own(make)),
        headers={"x-echo": f"Basic {BASIC}", "set-cookie": f"k={API_KEY}", "x-request-id": "r1"},
    )
    exc = await raised(make.livestreams.get_active("m1"))
    assert isinstance(exc, APIStatusError)
    assert exc.status_code == status
    assert exc.request_id == "r1"
    assert leaks(exc) == set()


async def test_an_error_answer_in_plain_text_leaks_none(make, router) -> None:
    router.get(ACTIVE).respond(502, text=echoing("<html>bad gateway</html>", own(make)))
    exc = await raised(make.livestreams.get_active("m1"))
    assert isinstance(exc, APIStatusError)
    assert isinstance(exc.body, str)
    assert "bad gateway" in exc.body
    assert leaks(exc) == set()


@pytest.mark.parametrize(
    "content",
    [
        lambda own: echoing('{"data": {"id": "ls1", "stream_key": "x"', own).encode(),  # cut
        lambda own: echoing("not json at all", own).encode(),
        lambda own: b"\xff\xfe" + echoing("", own).encode(),  # not UTF-8
        lambda own: json.dumps([{"stream_key": STREAM_KEY}, own]).encode(),  # not an object
        lambda own: json.dumps({"stream_key": STREAM_KEY, "message": echoing("", own)}).encode(),
    ],
    ids=["truncated", "text", "binary", "list", "no-data"],
)
async def test_a_malformed_answer_leaks_none(make, router, content) -> None:
    router.get(ACTIVE).respond(200, content=content(own(make)))
    exc = await raised(make.livestreams.get_active("m1"))
    assert isinstance(exc, ResponseDecodeError)
    assert leaks(exc) == set()


async def test_a_decode_error_keeps_a_short_excerpt_of_a_huge_answer(make, router) -> None:
    router.get(ACTIVE).respond(200, content=b"<" + b"x" * 100_000)
    exc = await raised(make.livestreams.get_active("m1"))
    assert isinstance(exc, ResponseDecodeError)
    assert len(str(exc)) < 400
    assert len(exc.body) <= 2000


# -- the network ------------------------------------------------------------------------------


class BackendRequestInfo:
    """What aiohttp's `RequestInfo` holds: the request's headers."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self.headers = dict(headers)

    def __repr__(self) -> str:
        return f"RequestInfo(headers={self.headers!r})"


class BackendError(Exception):
    """A backend's error whose args and attributes carry the request, as aiohttp's do."""

    def __init__(self, request: httpx.Request) -> None:
        info = BackendRequestInfo(request.headers)
        super().__init__(info, f"400, message='bad', headers={dict(request.headers)!r}")
        self.request_info = info


def failing(cls: type[httpx.TransportError], own: str) -> Callable[[httpx.Request], httpx.Response]:
    def fail(request: httpx.Request) -> httpx.Response:
        message = f"failed with {dict(request.headers)!r}: {echoing('', own)}"
        raise cls(message, request=request) from BackendError(request)

    return fail


@pytest.mark.parametrize(
    ("cls", "raised_as"),
    [
        (httpx.ConnectError, APIConnectionError),
        (httpx.ReadError, APIConnectionError),
        (httpx.RemoteProtocolError, APIConnectionError),
        (httpx.ConnectTimeout, APITimeoutError),
        (httpx.ReadTimeout, APITimeoutError),
        (httpx.PoolTimeout, APITimeoutError),
    ],
)
async def test_a_network_failure_leaks_none(make, router, cls, raised_as) -> None:
    router.get(ACTIVE).mock(side_effect=failing(cls, own(make)))
    exc = await raised(make.livestreams.get_active("m1"))
    assert isinstance(exc, raised_as)
    assert isinstance(exc.__cause__, cls)  # the httpx error stays, sanitized
    assert exc.__cause__.request.url.path.endswith(ACTIVE)
    assert leaks(exc) == set()


async def test_a_network_failure_raised_inside_an_except_leaks_none(make, router) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        try:
            raise BackendError(request)
        except BackendError:
            raise httpx.ReadError("reset", request=request)  # noqa: B904 - the context is the point

    router.get(ACTIVE).mock(side_effect=fail)
    exc = await raised(make.livestreams.get_active("m1"))
    assert leaks(exc) == set()
    assert exc.__cause__ is not None
    assert exc.__cause__.__context__ is None  # what stood under it is replaced, not kept


@pytest.mark.parametrize(
    "data",
    [
        {"id": "ls1", "status": "LIVE", "stream_key": STREAM_KEY, "disabled": STREAM_KEY},
        {"id": "ls1", "stream_key": STREAM_KEY, "created_at": STREAM_KEY},
        {"id": {"stream_key": STREAM_KEY}, "stream_key": STREAM_KEY},
    ],
    ids=["bool", "date", "id"],
)
async def test_a_misplaced_stream_key_is_not_quoted(make, router, data) -> None:
    router.get(ACTIVE).respond(200, json={"success": True, "data": data})
    # Tolerant decoding may accept some of these one day: then there is nothing to check.
    failure: list[DyteError] = []
    try:
        await make.livestreams.get_active("m1")
    except DyteError as exc:
        failure.append(exc)
    for error in failure:
        assert isinstance(error, ResponseDecodeError)
        assert leaks(error) == set()
        assert describe(error).startswith("ResponseDecodeError: cannot decode Livestream")


def test_the_cli_json_error_line_is_redacted() -> None:
    error = ResponseDecodeError(f"cannot decode: got {{'stream_key': '{STREAM_KEY}'}}")
    record = _error_record(error)
    assert record["type"] == "ResponseDecodeError"
    assert STREAM_KEY not in json.dumps(record)
    assert STREAM_KEY not in describe(error)
    assert describe(ValueError("plain")) == "ValueError: plain"
