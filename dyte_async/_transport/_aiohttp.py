"""`AiohttpTransport`: an httpx transport over one `aiohttp.ClientSession` (asyncio only)."""

from __future__ import annotations

import functools
import ssl
from typing import TYPE_CHECKING, Any

import httpx

from dyte_async._body import DEFAULT_MAX_RESPONSE_BYTES, BodyCorrupt, BodyTooLarge, CappedDecoder
from dyte_async._transport._errors import aiohttp_errors, from_aiohttp
from dyte_async._transport._tls import default_ssl_context
from dyte_async.errors import ResponseTooLargeError

if TYPE_CHECKING:
    import aiohttp

    from dyte_async._transport._proxy import Proxy, ProxyRoutes

__all__ = ["AiohttpTransport", "aiohttp_proxy"]


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport over one `aiohttp.ClientSession` (asyncio only).

    The session (and its connector, of `limits.max_connections` connections, idle ones
    kept `limits.keepalive_expiry` seconds) is made at the first request, inside the loop.
    Each answer's body is read before the response is returned (the API's answers are
    small JSON documents), at most `max_body` bytes of it, and decoded (gzip, deflate)
    incrementally under the same cap: past it, `ResponseTooLargeError`, and the
    connection is closed, not pooled.

    Per-request timeouts (`request.extensions["timeout"]`) map to aiohttp's: `pool` to
    `connect` (the wait for a connection plus connecting), `connect` to `sock_connect`,
    `read` to `sock_read`. aiohttp errors become the httpx error of the same meaning
    (`_errors.from_aiohttp`): `ConnectError` / `ConnectTimeout` only when the request
    cannot have been sent.

    Each request goes through the proxy `proxy` gives for its URL (aiohttp's per-request
    `proxy=`, credentials in a `Proxy-Authorization` header: a CONNECT tunnel for https,
    the absolute form for http), or direct; the environment is never read here
    (`_proxy` did, once).

    Args:
        limits: connection limits (`max_connections` None means no limit).
        ssl_context: TLS settings (default: httpx's, verified).
        max_body: the most bytes of one answer's body read from the network.
        proxy: the proxy of each request, or None: direct.
    """

    def __init__(
        self,
        *,
        limits: httpx.Limits,
        ssl_context: ssl.SSLContext | None = None,
        max_body: int = DEFAULT_MAX_RESPONSE_BYTES,
        proxy: ProxyRoutes | None = None,
    ) -> None:
        self._limits = limits
        self._proxy = proxy
        self._max_body = max_body
        self._ssl_context = ssl_context
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self._errors: tuple[type[BaseException], ...] = ()
        self._url: Any = None
        self._lanes: list[Any] = []

    @property
    def limits(self) -> httpx.Limits:
        """The connection limits (a lean lane's session uses the same)."""
        return self._limits

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS settings given (None: httpx's default, verified)."""
        return self._ssl_context

    @property
    def proxy(self) -> ProxyRoutes | None:
        """The proxy of each request (None: direct), a lean lane's too."""
        return self._proxy

    def attach(self, lane: Any) -> None:
        """Close `lane` (an object with `async aclose()`, a `LeanLane`) with this transport.

        Args:
            lane: the lane.
        """
        self._lanes.append(lane)

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The aiohttp session the client's requests go through, once opened: an attached
        lean lane's (`_lean.LeanLane`, which has its own), else this transport's."""
        for lane in self._lanes:
            if lane.session is not None:
                return lane.session  # type: ignore[no-any-return]
        return self._session

    def _open(self) -> aiohttp.ClientSession:
        import aiohttp
        import yarl

        from dyte_async._transport._aiohttp_reuse import GuardedConnector

        if self._closed:
            raise RuntimeError("this transport is closed")
        limits = self._limits
        # Never hands out a pooled connection with bytes waiting (`_aiohttp_reuse`).
        connector = GuardedConnector(
            limit=limits.max_connections or 0,
            limit_per_host=0,
            keepalive_timeout=(
                limits.keepalive_expiry if limits.keepalive_expiry is not None else 15.0
            ),
            ssl=self._ssl_context or default_ssl_context(),
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),  # httpx keeps the cookies, if any
            auto_decompress=False,  # httpx decodes Content-Encoding
            skip_auto_headers=("Content-Type",),  # send the headers httpx built, no more
            timeout=aiohttp.ClientTimeout(total=None),
            trust_env=False,  # the environment's proxies are in `self._proxy` already
        )
        self._errors = aiohttp_errors()
        # aiohttp parses every URL string into a yarl.URL: a client asks for the same few.
        self._url = functools.lru_cache(maxsize=512)(yarl.URL)
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` on the session and return its answer, read.

        Args:
            request: the request (its body read or streamed).

        Returns:
            The answer, its body read and its stream closed.

        Raises:
            httpx.TransportError: the subclass of the same meaning as aiohttp's error.
            ResponseTooLargeError: the body is longer than `max_body` bytes.
        """
        session = self._session or self._open()
        timeout = request.extensions.get("timeout")
        url = request.url
        headers = request.headers.multi_items()
        via: dict[str, Any] = {}
        route = None if self._proxy is None else self._proxy.route(url.scheme, url.host, url.port)
        if route is not None:
            via, extra = aiohttp_proxy(route, url.scheme)
            headers.extend(extra)
        try:
            content: Any = request.content
        except httpx.RequestNotRead:
            content = request.stream
        try:
            response = await session.request(
                request.method,
                self._url(str(request.url)),
                headers=headers,
                data=content or None,
                allow_redirects=False,
                timeout=_client_timeout(timeout) if timeout else None,
                server_hostname=request.extensions.get("sni_hostname"),
                **via,
            )
            try:
                body = await _read_body(response, self._max_body, request)
            except ResponseTooLargeError:
                response.close()  # the rest of the body is on the wire: not reusable
                raise
            finally:
                response.release()
        except self._errors as exc:
            raise from_aiohttp(exc, request) from exc
        extensions: dict[str, Any] = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode("ascii", "replace")
        return _read_response(
            response.status, response.raw_headers, body, request, extensions, self._max_body
        )

    async def aclose(self) -> None:
        """Close the session (and its connections); the transport cannot be reused."""
        self._closed = True
        session, self._session = self._session, None
        lanes, self._lanes = self._lanes, []
        try:
            for lane in lanes:
                await lane.aclose()
        finally:
            if session is not None:
                await session.close()


def aiohttp_proxy(proxy: Proxy, scheme: str) -> tuple[dict[str, Any], tuple[tuple[str, str], ...]]:
    """aiohttp's per-request arguments for a request to a `scheme` URL through `proxy`,
    and the headers to add to the request itself.

    The credentials go as a `Proxy-Authorization` header (aiohttp's `proxy_auth` is
    deprecated): in `proxy_headers`, which aiohttp sends on the CONNECT of an https
    request, or on the request itself for http (absolute form: aiohttp sends
    `proxy_headers` only on a CONNECT).

    Args:
        proxy: the proxy.
        scheme: the request URL's scheme.
    """
    authorization = proxy.authorization
    arguments: dict[str, Any] = {"proxy": proxy.url}
    if authorization is None:
        return arguments, ()
    if scheme == "https":
        arguments["proxy_headers"] = {"Proxy-Authorization": authorization}
        return arguments, ()
    return arguments, (("Proxy-Authorization", authorization),)


async def _read_body(response: Any, cap: int, request: httpx.Request) -> bytes:
    """The raw body, chunk by chunk as the network gives it, refused past `cap` bytes."""
    body = bytearray()
    async for chunk in response.content.iter_any():
        body += chunk
        if len(body) > cap:
            raise _too_large(request, response.status, cap)
    return bytes(body)


def _read_response(
    status: int,
    raw_headers: Any,
    body: bytes,
    request: httpx.Request,
    extensions: dict[str, Any],
    cap: int = DEFAULT_MAX_RESPONSE_BYTES,
) -> httpx.Response:
    """An `httpx.Response` whose body has been read and decoded per `Content-Encoding`,
    as `httpx.Response(content=body)` would make it, but inflated incrementally under
    `cap` (httpx would inflate it whole: a 1 MB gzip bomb is 1 GiB).

    Raises:
        ResponseTooLargeError: the decoded body is larger than `cap`.
        httpx.DecodingError: the compressed body is corrupt (as httpx says).
    """
    # The headers `httpx.Response(content=body)` would have: the answer's, and a
    # Content-Length of the body as it came when the answer had none.
    shown = httpx.Headers(raw_headers)
    shown.setdefault("Content-Length", str(len(body)))
    headers = shown.copy()
    encoding = headers.get("content-encoding")
    if encoding is not None:
        try:
            body = CappedDecoder(encoding, cap).feed_all(body)
        except BodyTooLarge:
            raise _too_large(request, status, cap) from None
        except BodyCorrupt:
            raise httpx.DecodingError(
                "the answer's compressed body is corrupt", request=request
            ) from None
        del headers["content-encoding"]  # decoded: httpx must not decode it again
    response = httpx.Response(
        status, headers=headers, content=body, request=request, extensions=extensions
    )
    response.headers = shown
    return response


def _too_large(request: httpx.Request, status: int, cap: int) -> ResponseTooLargeError:
    return ResponseTooLargeError(
        f"{request.method} {request.url.path}: the answer is larger than {cap} bytes "
        "(max_response_bytes)",
        status_code=status,
    )


def _client_timeout(timeout: dict[str, float | None]) -> Any:
    """aiohttp's timeouts for httpx's per-request ones."""
    import aiohttp

    return aiohttp.ClientTimeout(
        total=None,
        connect=timeout.get("pool"),
        sock_connect=timeout.get("connect"),
        sock_read=timeout.get("read"),
    )
