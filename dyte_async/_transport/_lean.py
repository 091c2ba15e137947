"""The lean lane: the client we build, on asyncio, sends straight to aiohttp.

`LeanLane` is what `Pipeline` uses instead of `httpx.AsyncClient.send` when the client is
ours and runs on `AiohttpTransport` (no `http_client=`, no `transport=`): no
`httpx.Request` or `httpx.Response` per call, the constant headers (credentials, Accept,
User-Agent, ...) set once on the lane's own `aiohttp.ClientSession`, one total timeout
per attempt (armed once; the connect timeout only when a connection is opened), the body
read in one go under `max_response_bytes` and inflated under the same cap.

What stays shared with the httpx lane, so both mean the same:

- errors: an aiohttp error becomes the httpx error `_errors.from_aiohttp` gives (a
  `ConnectError` / `ConnectTimeout` only when nothing was sent), raised with the
  `httpx.Request` the httpx lane would have sent (built only then), so the pipeline
  classifies (`_classify.network_failure`) and sanitizes (`_errors.sanitize`) it as it
  does every other;
- answers: a 2xx body goes to `_response.decode_answer`; an error answer becomes an
  `httpx.Response` (`LeanAnswer.to_httpx`) for `_classify.status_failure`.

Through a proxy, the constant headers go per request, never on the session (aiohttp
would give a session's `Authorization` to the proxy: see `open`).

The session is the lane's alone, never the one `AiohttpTransport` opens for the httpx
lane (the webhook key fetch): session-level headers on a shared session would add the
credentials to a request that removed them, and a session opened by the other lane would
lack them. The lane checks, once per session, that its session carries every constant
header, and sends them per request otherwise, so no request leaves without them.
"""

from __future__ import annotations

import functools
import json as jsonlib
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Protocol

import httpx

from dyte_async._body import BodyCorrupt, BodyTooLarge, CappedDecoder
from dyte_async._request import query_params
from dyte_async._transport._errors import aiohttp_errors, from_aiohttp
from dyte_async._transport._tls import default_ssl_context
from dyte_async.errors import InvalidArgumentError, ResponseTooLargeError

if TYPE_CHECKING:
    import ssl

    import aiohttp

    from dyte_async._transport._proxy import ProxyRoutes

__all__ = ["LaneHost", "LeanAnswer", "LeanLane", "LeanRequest", "expired", "lean_lane"]

_JSON_HEADERS: Final = {"Content-Type": "application/json"}
_NO_CONTENT_TYPE: Final = ("Content-Type",)
_BODYLESS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: The shortest total timeout given to aiohttp (0 or less would mean none at all).
_SHORTEST: Final = 1e-6
_HTTP_11: Final = b"HTTP/1.1"


class LaneHost(Protocol):
    """What a lane needs of its transport (`AiohttpTransport`): its limits, TLS settings
    and proxy, and to be closed with it."""

    @property
    def limits(self) -> httpx.Limits: ...

    @property
    def ssl_context(self) -> ssl.SSLContext | None: ...

    @property
    def proxy(self) -> ProxyRoutes | None: ...

    def attach(self, lane: Any) -> None: ...


class LeanRequest:
    """One call's request on the lean lane: method, URL, encoded body.

    Args:
        lane: the lane that sends it (for `to_httpx`).
        method: HTTP method.
        url: the full URL (a `yarl.URL`, already encoded).
        text: the same URL as text.
        body: the JSON body, encoded, or None.
        extra: headers of this call on top of the lane's (`AsyncDyte.with_options`).
    """

    __slots__ = ("_httpx", "body", "extra", "lane", "method", "text", "url")

    lane: LeanLane
    method: str
    url: Any
    text: str
    body: bytes | None
    extra: Mapping[str, str] | None

    def __init__(
        self,
        lane: LeanLane,
        method: str,
        url: Any,
        text: str,
        body: bytes | None,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        self.lane = lane
        self.method = method
        self.url = url
        self.text = text
        self.body = body
        self.extra = extra
        self._httpx: httpx.Request | None = None

    def to_httpx(self) -> httpx.Request:
        """The same request as an `httpx.Request` (for errors only): every header the
        lane sends, so that `sanitize` finds and masks the credentials."""
        if self._httpx is None:
            shown = httpx.Headers(list(self.lane.headers))
            if self.body is not None:
                shown["Content-Type"] = "application/json"
            shown.update(self.extra or {})
            headers = shown.multi_items()
            self._httpx = httpx.Request(
                self.method, self.text, headers=headers, content=self.body or b""
            )
        return self._httpx


class LeanAnswer:
    """An answer on the lean lane: status, headers, body (read and decoded)."""

    __slots__ = ("content", "decoded", "raw_headers", "reason", "request", "status_code")

    request: LeanRequest
    status_code: int
    raw_headers: Sequence[tuple[bytes, bytes]]
    content: bytes
    reason: str | None
    decoded: bool

    def __init__(
        self,
        request: LeanRequest,
        status_code: int,
        raw_headers: Sequence[tuple[bytes, bytes]],
        content: bytes,
        reason: str | None,
        *,
        decoded: bool,
    ) -> None:
        self.request = request
        self.status_code = status_code
        self.raw_headers = raw_headers
        self.content = content
        self.reason = reason
        self.decoded = decoded

    def to_httpx(self) -> httpx.Response:
        """The answer as the httpx lane gives it (for error answers and rare paths): its
        headers as they came (with a Content-Length when it had none), its body decoded."""
        shown = httpx.Headers(list(self.raw_headers))
        shown.setdefault("Content-Length", str(len(self.content)))
        given = shown.copy()
        if self.decoded:
            del given["content-encoding"]  # already decoded: httpx must not decode it again
        extensions: dict[str, Any] = {"http_version": _HTTP_11}
        if self.reason:
            extensions["reason_phrase"] = self.reason.encode("ascii", "replace")
        response = httpx.Response(
            self.status_code,
            headers=given,
            content=self.content,
            request=self.request.to_httpx(),
            extensions=extensions,
        )
        response.headers = shown
        return response


class LeanLane:
    """Sends the pipeline's requests on its own `aiohttp.ClientSession` (asyncio only).

    Made by `AsyncDyte` with the `AiohttpTransport` it built; the transport closes the
    lane when it is closed (`AiohttpTransport.attach`).

    Every request goes to the base URL's origin, so its proxy (the transport's route for
    that origin, or none) is found once, here, and given to aiohttp per request.

    Args:
        transport: the client's transport (its limits, TLS settings and proxy are used).
        base_url: the API's base URL.
        headers: the constant headers of every request (the `httpx.AsyncClient`'s).
        max_body: the most bytes of one answer's body, raw or decoded.
        connect_timeout: seconds to open a connection.
    """

    def __init__(
        self,
        transport: LaneHost,
        *,
        base_url: str,
        headers: httpx.Headers,
        max_body: int,
        connect_timeout: float,
    ) -> None:
        self._transport = transport
        self._base_url = base_url
        #: every constant header, as (name, value) pairs (`Proxy-Authorization` too, for
        #: an http base URL through a proxy with credentials).
        self.headers: tuple[tuple[str, str], ...] = tuple(headers.multi_items())
        self._max_body = max_body
        self._connect_timeout = connect_timeout
        self._session: aiohttp.ClientSession | None = None
        self._checked: aiohttp.ClientSession | None = None
        self._per_request: Mapping[str, str] | None = None
        self._closed = False
        self._errors: tuple[type[BaseException], ...] = ()
        self._timeout: Any = None
        self._url: Any = None
        routes = transport.proxy
        via = None if routes is None else routes.route_url(base_url)
        #: aiohttp's proxy arguments for every request (empty: direct).
        self._via: Mapping[str, Any] = {}
        if via is not None:
            from dyte_async._transport._aiohttp import aiohttp_proxy

            self._via, extra = aiohttp_proxy(via, httpx.URL(base_url).scheme)
            self.headers += extra
        transport.attach(self)
        if _loop_running():  # made inside the loop (`async with`): warm now, not at the first call
            self.open()

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The lane's session, once opened."""
        return self._session

    @property
    def closed(self) -> bool:
        """True once `aclose` was called (its transport is closed)."""
        return self._closed

    def open(self) -> aiohttp.ClientSession:
        """Open the session now (inside the event loop), if not yet open.

        Raises:
            RuntimeError: the lane is closed.
        """
        import aiohttp
        import yarl

        if self._url is None:
            self._errors = aiohttp_errors()
            self._timeout = aiohttp.ClientTimeout
            # aiohttp reads a URL string into a yarl.URL: a client asks for the same few.
            self._url = functools.lru_cache(maxsize=512)(yarl.URL)
        if self._session is not None:
            return self._session
        if self._closed:
            raise RuntimeError("this transport is closed")
        limits = self._transport.limits
        ssl_context: ssl.SSLContext = self._transport.ssl_context or default_ssl_context()
        from dyte_async._transport._aiohttp_reuse import GuardedConnector

        # As the httpx lane's: never a pooled connection with bytes waiting on it (another
        # call's answer), see `_aiohttp_reuse`.
        connector = GuardedConnector(
            limit=limits.max_connections or 0,
            limit_per_host=0,
            keepalive_timeout=(
                limits.keepalive_expiry if limits.keepalive_expiry is not None else 15.0
            ),
            ssl=ssl_context,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            # Through a proxy, no session-level headers: aiohttp builds a request's proxy
            # headers from the session's (`ClientSession._prepare_headers`) and sends an
            # `Authorization` among them to the proxy as `Proxy-Authorization`: the API's
            # credentials would reach the proxy. `_check` then sends them per request.
            headers=None if self._via else self.headers,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,  # inflated here, under the cap
            timeout=aiohttp.ClientTimeout(total=None),
            trust_env=False,  # the environment's proxies are in `self._via` already
        )
        return self._session

    def build(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Any,
        extra: Mapping[str, str] | None = None,
    ) -> LeanRequest:
        """The request for one call: the URL as httpx writes it, the body as httpx
        encodes JSON (`ensure_ascii=False`, compact, no NaN).

        Args:
            method: HTTP method.
            path: path below the base URL, already quoted.
            params: query parameters (None values are dropped).
            json: JSON body, or None for no body.
            extra: headers on top of the lane's (they replace those of the same name).

        Raises:
            InvalidArgumentError: `json` cannot be encoded.
        """
        try:
            text = _url_text(self._base_url + path, query_params(params))
            body = None
            if json is not None:
                body = jsonlib.dumps(
                    json, ensure_ascii=False, separators=(",", ":"), allow_nan=False
                ).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise InvalidArgumentError(
                f"{method} {path}: the request body cannot be sent as JSON ({exc})"
            ) from exc
        if self._url is None:
            self.open()
        return LeanRequest(self, method, self._url(text), text, body, extra)

    async def exchange(self, request: LeanRequest, timeout: float) -> LeanAnswer:
        """Send `request` and read its answer, all within `timeout` seconds.

        Args:
            request: from `build`.
            timeout: seconds for the whole attempt (connect, send, read the body);
                when they run out, the error is one `expired` recognizes.

        Returns:
            The answer, its body read and decoded.

        Raises:
            httpx.TransportError: the subclass `_errors.from_aiohttp` gives.
            httpx.DecodingError: the compressed body is corrupt.
            ResponseTooLargeError: the body is larger than `max_body` (the connection is
                closed, not pooled).
            RuntimeError: the lane is closed.
        """
        session = self._session or self.open()
        if session is not self._checked:
            self._check(session)
        headers = self._per_request
        if request.body is not None:
            headers = {**headers, **_JSON_HEADERS} if headers else _JSON_HEADERS
        if request.extra:
            headers = _with_extra(headers, request.extra)
        connect = self._connect_timeout
        try:
            response = await session.request(
                request.method,
                request.url,
                data=request.body,
                headers=headers,
                # aiohttp would announce a body-less write as application/octet-stream.
                skip_auto_headers=(
                    _NO_CONTENT_TYPE
                    if request.body is None and request.method not in _BODYLESS
                    else None
                ),
                allow_redirects=False,
                # Never rounded up (aiohttp rounds past 5 s by default): the call's
                # deadline may be what bounds this attempt (`expired`).
                timeout=self._timeout(
                    total=timeout if timeout > _SHORTEST else _SHORTEST,
                    sock_connect=connect if connect < timeout else timeout,
                    ceil_threshold=math.inf,
                ),
                **self._via,
            )
            try:
                body = await self._read(response, request)
            except ResponseTooLargeError:
                response.close()  # the rest of the body is on the wire: not reusable
                raise
            finally:
                response.release()
        except self._errors as exc:
            raise from_aiohttp(exc, request.to_httpx()) from exc  # `expired` reads the cause
        encoding = response.headers.get("Content-Encoding")
        if encoding is not None:
            try:
                body = CappedDecoder(encoding, self._max_body).feed_all(body)
            except BodyTooLarge:
                raise _too_large(request, response.status, self._max_body) from None
            except BodyCorrupt:
                raise httpx.DecodingError(
                    "the answer's compressed body is corrupt", request=request.to_httpx()
                ) from None
        return LeanAnswer(
            request,
            response.status,
            response.raw_headers,
            body,
            response.reason,
            decoded=encoding is not None,
        )

    async def _read(self, response: Any, request: LeanRequest) -> bytes:
        """The raw body, refused past the cap (before reading, when its length says so)."""
        cap = self._max_body
        length = response.content_length
        if length is not None:
            if length > cap:
                raise _too_large(request, response.status, cap)
            return bytes(await response.read())
        body = bytearray()
        async for chunk in response.content.iter_any():
            body += chunk
            if len(body) > cap:
                raise _too_large(request, response.status, cap)
        return bytes(body)

    def _check(self, session: aiohttp.ClientSession) -> None:
        """Whether `session` carries every constant header; if not, send them per request."""
        defaults = session.headers
        missing = [(k, v) for k, v in self.headers if v not in defaults.getall(k, ())]
        self._per_request = dict(self.headers) if missing else None
        self._checked = session

    async def aclose(self) -> None:
        """Close the session; the lane cannot be used again."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _loop_running() -> bool:
    import asyncio  # imported here: `import dyte_async` does not need asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@functools.cache
def _total_timeouts() -> frozenset[type[BaseException]]:
    """What aiohttp raises when a request's total timeout fires (its subclasses are the
    connect and read timeouts): asyncio's TimeoutError, the builtin one from 3.11."""
    import asyncio

    return frozenset({TimeoutError, asyncio.TimeoutError})


def expired(exc: BaseException) -> bool:
    """Whether `exc` (raised by `LeanLane.exchange`) says the attempt's whole time ran out
    (aiohttp's total timeout), rather than its connect timeout or the network.

    Args:
        exc: the httpx error, before `_errors.sanitize` replaced its cause.
    """
    return isinstance(exc, httpx.ReadTimeout) and type(exc.__cause__) in _total_timeouts()


def lean_lane(
    transport: httpx.AsyncBaseTransport,
    *,
    base_url: str,
    headers: httpx.Headers,
    max_body: int,
    connect_timeout: float,
) -> LeanLane | None:
    """The lean lane over `transport` when it is an `AiohttpTransport`, else None.

    Args:
        transport: the transport of the client we built.
        base_url: the API's base URL.
        headers: the constant headers of every request.
        max_body: the most bytes of one answer's body.
        connect_timeout: seconds to open a connection.
    """
    from dyte_async._transport._aiohttp import AiohttpTransport

    if not isinstance(transport, AiohttpTransport):
        return None
    return LeanLane(
        transport,
        base_url=base_url,
        headers=headers,
        max_body=max_body,
        connect_timeout=connect_timeout,
    )


@functools.lru_cache(maxsize=512)
def _plain_url(text: str) -> str:
    return str(httpx.URL(text))


def _url_text(text: str, query: Sequence[tuple[str, Any]] | None) -> str:
    """The URL as httpx writes it on the wire (its quoting, its query encoding)."""
    if query is None:
        return _plain_url(text)
    return str(httpx.URL(text, params=query))


def _too_large(request: LeanRequest, status: int, cap: int) -> ResponseTooLargeError:
    return ResponseTooLargeError(
        f"{request.method} {request.url.raw_path}: the answer is larger than {cap} bytes "
        "(max_response_bytes)",
        status_code=status,
    )


def _with_extra(headers: Mapping[str, str] | None, extra: Mapping[str, str]) -> dict[str, str]:
    """`headers` with `extra` on top: a name in `extra` replaces the value aiohttp would
    send (the session's default, or one of `headers`), whatever its case."""
    replaced = {name.lower() for name in extra}
    kept = {k: v for k, v in (headers or {}).items() if k.lower() not in replaced}
    return {**kept, **extra}
