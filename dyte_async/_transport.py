"""The HTTP transports under the pooled `httpx.AsyncClient`, and how one is chosen.

`http_backend="auto"` (the default) picks, when the client is first used inside the event loop:

- on asyncio, when `aiohttp` is installed (the `aiohttp` extra): `AiohttpTransport`, a thin
  httpx transport over one `aiohttp.ClientSession`. Measured (benchmarks/): 5-10x the
  throughput of httpcore's pool at 100 and more requests in flight, and cancellation does
  not poison it (HAZARDS.md 1, 2);
- otherwise (trio, or no aiohttp): `GuardedHTTPCoreTransport`, httpx's own httpcore
  transport with a watchdog that rebuilds a pool poisoned by cancellation (httpcore issue
  1093: a request cancelled right after the pool assigned it a new connection leaves that
  connection "connecting" forever, and enough of them exhaust the pool).

`http_backend="aiohttp"` or `"httpcore"` forces one. aiohttp is imported lazily, never
at `import dyte_async` (it costs ~200 ms: HAZARDS.md 5).

Why not httpx-aiohttp's transport: its error mapping turns a dropped connection
(`ServerDisconnectedError`) and a refused one into `httpx.ConnectTimeout`, which our
pipeline rightly treats as "never sent" and would retry even a non-idempotent POST; and
it only applies the pool timeout by way of aiohttp's `connect` timeout. The transport
here maps every aiohttp error to the httpx error that says whether the request may have
reached the server, and reads the (small, JSON) body before returning.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import ssl
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Literal, cast

import anyio
import httpx

from dyte_async.errors import ConfigurationError

if TYPE_CHECKING:
    import aiohttp
    import httpcore

__all__ = [
    "AiohttpTransport",
    "GuardedHTTPCoreTransport",
    "HttpBackend",
    "build_transport",
    "resolve_backend",
]

HttpBackend = Literal["auto", "aiohttp", "httpcore"]
HTTP_BACKENDS: tuple[HttpBackend, ...] = ("auto", "aiohttp", "httpcore")


def _running_library() -> str | None:
    try:
        import sniffio

        return sniffio.current_async_library()
    except Exception:  # no event loop detected (or sniffio missing): assume nothing
        return None


@functools.cache
def _aiohttp_installed() -> bool:
    return importlib.util.find_spec("aiohttp") is not None


def resolve_backend(requested: str) -> Literal["aiohttp", "httpcore"]:
    """The transport backend to build for `requested`, on the running async library.

    Raises:
        ConfigurationError: an unknown name, or "aiohttp" when it cannot work here.
    """
    if requested == "httpcore":
        return "httpcore"
    if requested not in HTTP_BACKENDS:
        raise ConfigurationError(
            f"http_backend must be one of {', '.join(map(repr, HTTP_BACKENDS))}, got {requested!r}"
        )
    library = _running_library()
    if requested == "aiohttp":
        if library is not None and library != "asyncio":
            raise ConfigurationError(
                f"http_backend='aiohttp' needs asyncio, but this is {library}: "
                "use http_backend='httpcore' (or 'auto')"
            )
        if not _aiohttp_installed():
            raise ConfigurationError(
                "http_backend='aiohttp' needs aiohttp: pip install 'dyte-async[aiohttp]'"
            )
        return "aiohttp"
    return "aiohttp" if library == "asyncio" and _aiohttp_installed() else "httpcore"


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # The same trust store as httpx (certifi, or SSL_CERT_FILE / SSL_CERT_DIR), built once
    # per process: about 20 ms.
    return httpx.create_ssl_context()


def build_transport(backend: str, limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    """The transport for `backend` ("auto", "aiohttp" or "httpcore") on the running loop."""
    if resolve_backend(backend) == "aiohttp":
        return AiohttpTransport(limits=limits)
    return GuardedHTTPCoreTransport(limits=limits)


# -- aiohttp ---------------------------------------------------------------------------------


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport over one `aiohttp.ClientSession` (asyncio only).

    The session (and its connector, of `limits.max_connections` connections, idle ones
    kept `limits.keepalive_expiry` seconds) is made at the first request, inside the loop.
    Each answer's body is read before the response is returned: the API's answers are
    small JSON documents, and an already-read body spares httpx its streaming machinery.

    Per-request timeouts (`request.extensions["timeout"]`) map to aiohttp's: `pool` to
    `connect` (the wait for a connection plus connecting), `connect` to `sock_connect`,
    `read` to `sock_read`. aiohttp errors become the httpx error of the same meaning:
    `ConnectError` / `ConnectTimeout` only when the request cannot have been sent.

    Args:
        limits: connection limits (`max_connections` None means no limit).
        ssl_context: TLS settings (default: httpx's, verified).
    """

    def __init__(self, *, limits: httpx.Limits, ssl_context: ssl.SSLContext | None = None) -> None:
        self._limits = limits
        self._ssl_context = ssl_context
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self._errors: tuple[type[BaseException], ...] = ()
        self._map: Any = None
        self._url: Any = None

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The aiohttp session, once the first request has made it."""
        return self._session

    def _open(self) -> aiohttp.ClientSession:
        import aiohttp
        import yarl

        if self._closed:
            raise RuntimeError("this transport is closed")
        limits = self._limits
        connector = aiohttp.TCPConnector(
            limit=limits.max_connections or 0,
            limit_per_host=0,
            keepalive_timeout=(
                limits.keepalive_expiry if limits.keepalive_expiry is not None else 15.0
            ),
            ssl=self._ssl_context or _ssl_context(),
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),  # httpx keeps the cookies, if any
            auto_decompress=False,  # httpx decodes Content-Encoding
            skip_auto_headers=("Content-Type",),  # send the headers httpx built, no more
            timeout=aiohttp.ClientTimeout(total=None),
            trust_env=False,
        )
        self._errors = (aiohttp.ClientError, TimeoutError)
        self._map = _aiohttp_error_mapper(aiohttp)
        # aiohttp parses every URL string into a yarl.URL: a client asks for the same few.
        self._url = functools.lru_cache(maxsize=512)(yarl.URL)
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session or self._open()
        timeout = request.extensions.get("timeout")
        client_timeout = _client_timeout(timeout) if timeout else None
        try:
            content: Any = request.content
        except httpx.RequestNotRead:
            content = request.stream
        try:
            response = await session.request(
                request.method,
                self._url(str(request.url)),
                headers=request.headers.multi_items(),
                data=content or None,
                allow_redirects=False,
                timeout=client_timeout,
                server_hostname=request.extensions.get("sni_hostname"),
            )
            try:
                body = await response.read()
            finally:
                response.release()
        except self._errors as exc:
            raise self._map(exc, request) from exc
        extensions: dict[str, Any] = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode("ascii", "replace")
        return _read_response(
            response.status,
            response.raw_headers,
            body,
            request,
            extensions,
            encoded="Content-Encoding" in response.headers,
        )

    async def aclose(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _read_response(
    status: int,
    raw_headers: Any,
    body: bytes,
    request: httpx.Request,
    extensions: dict[str, Any],
    *,
    encoded: bool,
) -> httpx.Response:
    """An `httpx.Response` whose body has been read (and closed), as `content=` makes one.

    `httpx.Response(content=body)` runs the body through httpx's decoder chain, ~14 us even
    for a plain body. Without a `Content-Encoding` nothing needs decoding, so the body is
    set as read directly (the attributes `Response.read()` sets; checked by
    tests/unit/test_transport.py against the installed httpx).
    """
    stream = httpx.ByteStream(body)
    response = httpx.Response(
        status, headers=raw_headers, stream=stream, request=request, extensions=extensions
    )
    response.headers.setdefault("Content-Length", str(len(body)))  # as `content=` does
    if encoded or not _fast_read_works():
        response.read()  # gzip, br, ...: httpx decodes
    else:
        response._content = body
        response.is_stream_consumed = True
        response.is_closed = True
    return response


@functools.cache
def _fast_read_works() -> bool:
    """Whether `Response.read()` leaves the state `_read_response` sets (httpx 0.27, 0.28)."""
    probe = httpx.Response(200, stream=httpx.ByteStream(b"{}"))
    probe.read()
    return (
        vars(probe).get("_content") == b"{}"
        and probe.is_stream_consumed is True
        and probe.is_closed is True
    )


def _client_timeout(timeout: dict[str, float | None]) -> Any:
    import aiohttp

    return aiohttp.ClientTimeout(
        total=None,
        connect=timeout.get("pool"),
        sock_connect=timeout.get("connect"),
        sock_read=timeout.get("read"),
    )


def _aiohttp_error_mapper(aiohttp: Any) -> Any:
    # Most specific first. "Unsent" errors: the connection was never made, or no
    # connection was free in time. Everything after a connection existed is ambiguous.
    table: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
        (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
        (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
        (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
        (aiohttp.ClientConnectorError, httpx.ConnectError),  # refused, DNS, TLS handshake
        (aiohttp.ServerFingerprintMismatch, httpx.ConnectError),
        (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
        (aiohttp.ClientPayloadError, httpx.RemoteProtocolError),
        (aiohttp.ClientResponseError, httpx.RemoteProtocolError),  # malformed answer
        (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
        (aiohttp.NonHttpUrlClientError, httpx.UnsupportedProtocol),
        (aiohttp.ClientConnectionError, httpx.ReadError),  # reset, broken pipe, ...
        (TimeoutError, httpx.ReadTimeout),
        (aiohttp.ClientError, httpx.TransportError),
    )

    def to_httpx(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
        for source, target in table:
            if isinstance(exc, source):
                return target(str(exc) or type(exc).__name__, request=request)
        return httpx.TransportError(str(exc) or type(exc).__name__, request=request)

    return to_httpx


# -- httpcore, guarded -------------------------------------------------------------------------


class _Generation:
    """One httpcore pool (inside an httpx transport) and the requests using it."""

    __slots__ = ("in_flight", "transport")

    def __init__(self, transport: httpx.AsyncHTTPTransport) -> None:
        self.transport = transport
        self.in_flight = 0

    def leaked(self) -> int:
        """Connections busy with no request of ours behind them (0 when healthy)."""
        pool = getattr(self.transport, "_pool", None)
        connections = getattr(pool, "connections", None)
        if connections is None:  # pragma: no cover - httpx internals moved
            return 0
        busy = 0
        for connection in connections:
            if not (connection.is_idle() or connection.is_closed()):
                busy += 1
        return busy - self.in_flight


class _TrackedStream(httpx.AsyncByteStream):
    __slots__ = ("_closed", "_generation", "_owner", "_stream")

    def __init__(
        self,
        stream: httpx.AsyncByteStream,
        generation: _Generation,
        owner: GuardedHTTPCoreTransport,
    ) -> None:
        self._stream = stream
        self._generation = generation
        self._owner = owner
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self._stream.aclose()
        finally:
            await self._owner._release(self._generation)


class GuardedHTTPCoreTransport(httpx.AsyncBaseTransport):
    """httpx's httpcore transport, with a watchdog that replaces a poisoned pool.

    httpcore 1.0.x leaks a connection when a request is cancelled right after the pool
    assigned it a brand-new connection (httpcore issue 1093): that connection stays
    "connecting", neither idle nor closed, forever. Our pipeline keeps requests out of the
    pool's queue, which makes this rare, not impossible. The watchdog sees it two ways:

    - at a request's start, when nothing is in flight or at most every `check_interval`
      seconds: more busy connections than requests in flight;
    - a pool timeout while no more requests were in flight than the pool has connections
      (a healthy pool would have served them at once). Such waits are capped at
      `stall_timeout` seconds, and the request is sent again, once, on the new pool: a
      pool timeout proves it was never sent.

    Either way a new pool takes the new requests; the old one is closed (leaked
    connections with it) as soon as its last request ends.

    Args:
        limits: connection limits of each pool.
        ssl_context: TLS settings (default: httpx's, verified).
        stall_timeout: the longest a request may wait for a connection while the pool
            should have one free.
        check_interval: seconds between two checks under constant load.
    """

    def __init__(
        self,
        *,
        limits: httpx.Limits,
        ssl_context: ssl.SSLContext | None = None,
        stall_timeout: float = 2.0,
        check_interval: float = 1.0,
    ) -> None:
        self._limits = limits
        self._ssl_context = ssl_context or _ssl_context()
        self._capacity = limits.max_connections if limits.max_connections else math.inf
        self._stall_timeout = stall_timeout
        self._check_interval = check_interval
        self._next_check = 0.0
        self._retired: list[_Generation] = []
        self._current = self._new_generation()
        #: pools replaced by the watchdog since the transport was made.
        self.rebuilds = 0

    def _new_generation(self) -> _Generation:
        limits = self._limits
        transport = httpx.AsyncHTTPTransport(verify=self._ssl_context, limits=limits)
        pool = getattr(transport, "_pool", None)
        if _pool_fits(pool):
            transport._pool = _linear_pool_class()(
                ssl_context=self._ssl_context,
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
            )
        return _Generation(transport)

    @property
    def pool(self) -> Any:
        """The current httpcore pool (for inspection and tests)."""
        return getattr(self._current.transport, "_pool", None)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        generation = self._current
        if generation.in_flight == 0 or time.monotonic() >= self._next_check:
            self._next_check = time.monotonic() + self._check_interval
            if generation.leaked() > 0:
                await self._rebuild(generation)
                generation = self._current
        try:
            return await self._send(generation, request)
        except httpx.PoolTimeout:
            if not self._stalled(generation):
                raise
        # Never sent: once more, on a fresh pool.
        await self._rebuild(generation)
        return await self._send(self._current, request)

    async def _send(self, generation: _Generation, request: httpx.Request) -> httpx.Response:
        generation.in_flight += 1
        try:
            if generation.in_flight <= self._capacity:
                _cap_pool_timeout(request, self._stall_timeout)
            response = await generation.transport.handle_async_request(request)
        except BaseException:
            await self._release(generation)
            raise
        response.stream = _TrackedStream(
            cast(httpx.AsyncByteStream, response.stream), generation, self
        )
        return response

    def _stalled(self, generation: _Generation) -> bool:
        # Called right after our request left the pool's count: the others in flight, plus us.
        return generation is self._current and generation.in_flight + 1 <= self._capacity

    async def _rebuild(self, generation: _Generation) -> None:
        if generation is not self._current:
            return  # another request already replaced it
        self.rebuilds += 1
        self._current = self._new_generation()
        self._retired.append(generation)
        if generation.in_flight == 0:
            await self._close(generation)

    async def _release(self, generation: _Generation) -> None:
        generation.in_flight -= 1
        if generation.in_flight == 0 and generation is not self._current:
            await self._close(generation)

    async def _close(self, generation: _Generation) -> None:
        if generation in self._retired:
            self._retired.remove(generation)
        with anyio.CancelScope(shield=True):
            await generation.transport.aclose()

    async def aclose(self) -> None:
        generations = [*self._retired, self._current]
        self._retired.clear()
        with anyio.CancelScope(shield=True):
            for generation in generations:
                await generation.transport.aclose()


_POOL_INTERNALS = (
    "_assign_requests_to_connections",
    "_connections",
    "_requests",
    "_max_connections",
    "_max_keepalive_connections",
)


def _pool_fits(pool: object) -> bool:
    """True for a plain httpcore pool with the internals `_LinearPool` relies on."""
    import httpcore

    return type(pool) is httpcore.AsyncConnectionPool and all(
        hasattr(pool, name) for name in _POOL_INTERNALS
    )


@functools.cache
def _linear_pool_class() -> type[httpcore.AsyncConnectionPool]:
    """`_LinearPool`, defined at first use: importing httpcore costs ~100 ms (it imports
    trio when installed), and `import dyte_async` must not pay it."""
    import httpcore

    class _LinearPool(httpcore.AsyncConnectionPool):
        """httpcore's HTTP/1.1 pool, with the request-to-connection assignment made linear.

        httpcore 1.0.x runs `_assign_requests_to_connections` on every request start and end.
        It scans every connection with a `poll()` of its socket (`has_expired`) and, for each
        idle one, counts all connections again: O(n^2) per request. With 100 kept-alive
        connections and 100 requests in flight that is ~15 ms of CPU per request (benchmarks:
        ~60 requests/s). Here nothing is scanned when no request is queued; a queued request
        takes the first free connection, and connections handed out move to the end of the
        list, so free ones are found near its start; expiry is checked only on the connection
        about to be handed out; a connection goes to one queued request per pass. Same policy
        otherwise (HTTP/1.1 only: the transport never enables HTTP/2).
        """

        def _assign_requests_to_connections(self) -> list[httpcore.AsyncConnectionInterface]:
            closing: list[httpcore.AsyncConnectionInterface] = []
            connections = self._connections
            if len(connections) > self._max_keepalive_connections:
                # Too many kept alive: close idle ones, as httpcore does.
                for connection in list(connections):
                    if len(connections) <= self._max_keepalive_connections:
                        break
                    if connection.is_closed():
                        connections.remove(connection)
                    elif connection.is_idle():
                        connections.remove(connection)
                        closing.append(connection)
            queued = [request for request in self._requests if request.is_queued()]
            if not queued:
                return closing
            taken: set[httpcore.AsyncConnectionInterface] = set()
            none_free: list[httpcore.Origin] = []  # origins with no free connection left
            for pool_request in queued:
                origin = pool_request.request.url.origin
                chosen = None
                dead = []
                # Connections handed out last sit at the end, so a free one is found early.
                for connection in () if origin in none_free else connections:
                    if connection.is_closed():
                        dead.append(connection)
                    elif (
                        connection not in taken
                        and connection.is_available()
                        and connection.can_handle_request(origin)
                    ):
                        if connection.has_expired():  # idle, but the server hung up
                            dead.append(connection)
                            closing.append(connection)
                            continue
                        chosen = connection
                        break
                for connection in dead:
                    connections.remove(connection)
                if chosen is not None:
                    connections.remove(chosen)
                    connections.append(chosen)
                else:
                    none_free.append(origin)
                    if len(connections) >= self._max_connections:
                        # Full: make room by closing an idle connection (to another origin).
                        idle = next(
                            (c for c in connections if c not in taken and c.is_idle()), None
                        )
                        if idle is None:
                            break  # nothing free for anyone: the rest stay queued
                        connections.remove(idle)
                        closing.append(idle)
                    chosen = self.create_connection(origin)
                    connections.append(chosen)
                taken.add(chosen)
                pool_request.assign_to_connection(chosen)
            return closing

    return _LinearPool


def _cap_pool_timeout(request: httpx.Request, cap: float) -> None:
    timeout = request.extensions.get("timeout")
    if timeout is None:
        request.extensions["timeout"] = {"pool": cap}
        return
    pool = timeout.get("pool")
    if pool is None or pool > cap:
        request.extensions["timeout"] = {**timeout, "pool": cap}
