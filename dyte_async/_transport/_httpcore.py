"""`GuardedHTTPCoreTransport`: httpcore's connection pools, guarded against its cancellation bug.

httpcore 1.0.x leaks a connection when a request is cancelled right after the pool assigned
it a brand-new connection (httpcore issue 1093, HAZARDS.md 1): that connection stays
"connecting", neither idle nor closed, forever, and enough of them exhaust a pool. Its pool
is also slow when many requests share it: it re-scans every connection for every idle one
at each request's start and end (O(n^2)), and it can hand one idle connection to several
queued requests at once, which then retry (benchmarks: ~60-200 requests/s at 100 in
flight).

So, on public httpcore API only (`AsyncConnectionPool`, its `connections`), the transport
holds one pool of ONE connection per allowed connection ("shards"), and a semaphore of as
many places in front of them:

- a request takes a place (its wait counts against the pool timeout), then a free shard,
  most recently used first (its connection is likely still open); no request ever waits
  in a pool's own queue, where the leak happens, and no pool ever serves two at once;
- the watchdog: before a request uses a shard, a busy connection there (none of our
  requests is using it) is a leak: the shard gets a new pool and the old one is closed,
  leaked connection and all. Nothing else can use a shard between that check and the
  request, so no request ever waits behind a leaked connection.

Every pool's network backend is `_reuse.GuardedBackend`: a connection that read bytes
past an answer (a second answer, junk) is closed, never reused, so no call ever gets
another call's answer (httpcore would parse those bytes as the next request's answer).

Proxies: each request's route (`_proxy.ProxyRoutes`: a proxy, or direct) picks the
shard's pool for it, made with httpcore's public `proxy=httpcore.Proxy(...)` (a CONNECT
tunnel for https, the absolute form for http) on the same guarded network backend; the
semaphore and the watchdog count every pool of a shard.
"""

from __future__ import annotations

import math
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

import anyio
import httpx

from dyte_async._body import DEFAULT_MAX_RESPONSE_BYTES
from dyte_async._transport._errors import from_httpcore, httpcore_errors
from dyte_async._transport._tls import default_ssl_context
from dyte_async.errors import ResponseTooLargeError

if TYPE_CHECKING:
    import httpcore

    from dyte_async._transport._proxy import Proxy, ProxyRoutes
    from dyte_async._transport._reuse import GuardedBackend

__all__ = ["GuardedHTTPCoreTransport"]


class _Shard:
    """One pool of one connection per route (direct, or a proxy), made when first used;
    `index`: its place in the transport's list. The shard serves one request at a time,
    so at most one of its connections is busy."""

    __slots__ = ("_make", "index", "pool", "pools")

    def __init__(
        self, make: Callable[[Proxy | None], httpcore.AsyncConnectionPool], index: int
    ) -> None:
        self._make = make
        self.index = index
        #: the shard's pools by route (None: direct).
        self.pools: dict[Proxy | None, httpcore.AsyncConnectionPool] = {}
        #: the pool used last (the direct one at first).
        self.pool = self.pool_for(None)

    def pool_for(self, route: Proxy | None) -> httpcore.AsyncConnectionPool:
        """The shard's pool for `route`, made now if new."""
        pool = self.pools.get(route)
        if pool is None:
            pool = self.pools[route] = self._make(route)
        self.pool = pool
        return pool

    def leaked(self) -> bool:
        """Whether a connection is busy, though no request uses the shard (httpcore 1093)."""
        return any(
            not (connection.is_idle() or connection.is_closed())
            for pool in self.pools.values()
            for connection in pool.connections
        )


class _Body(httpx.AsyncByteStream):
    """httpcore's response body as httpx's, errors mapped, at most `cap` raw bytes
    (then `ResponseTooLargeError`: closing the stream early closes its connection);
    `on_close` runs once, at close."""

    __slots__ = ("_cap", "_closed", "_on_close", "_request", "_status", "_stream")

    def __init__(
        self,
        stream: AsyncIterable[bytes],
        request: httpx.Request,
        on_close: Callable[[], Awaitable[None]],
        *,
        cap: int,
        status: int,
    ) -> None:
        self._stream = stream
        self._request = request
        self._on_close = on_close
        self._closed = False
        self._cap = cap
        self._status = status

    async def __aiter__(self) -> AsyncIterator[bytes]:
        read = 0
        chunks = aiter(self._stream)
        try:
            async for chunk in chunks:
                read += len(chunk)
                if read > self._cap:
                    request = self._request
                    # Closed now (which closes the connection mid-body), not by the GC.
                    close = getattr(chunks, "aclose", None)
                    if close is not None:
                        await close()
                    raise ResponseTooLargeError(
                        f"{request.method} {request.url.path}: the answer is larger than "
                        f"{self._cap} bytes (max_response_bytes)",
                        status_code=self._status,
                    )
                yield chunk
        except httpcore_errors() as exc:
            raise from_httpcore(exc, self._request) from exc

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._stream, "aclose", None)
            if close is not None:
                await close()
        finally:
            await self._on_close()


class GuardedHTTPCoreTransport(httpx.AsyncBaseTransport):
    """An httpx transport over one-connection httpcore pools, a semaphore in front
    (module docstring).

    Args:
        limits: `max_connections` is the number of shards (and of places); None means one
            shared pool with no semaphore (httpcore's own behaviour). Keep-alive expiry
            applies to every shard.
        ssl_context: TLS settings (default: httpx's, verified).
        max_body: the most raw bytes of one answer's body read (then
            `ResponseTooLargeError`, and the connection is closed).
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
        self._max_body = max_body
        self._proxy = proxy
        self._ssl_context = ssl_context or default_ssl_context()
        self._keepalive_expiry = limits.keepalive_expiry
        #: the pools' network backend: streams that never carry a request after stray
        #: bytes (`_reuse`), shared by every shard.
        self._backend: GuardedBackend | None = None
        count = limits.max_connections
        self._per_pool = 1 if count else None
        self._gate = anyio.Semaphore(count) if count else None
        self._shards = [self._new_shard(i) for i in range(count or 1)]
        #: indices of the shards no request is using, the next one to use last.
        self._free = list(reversed(range(len(self._shards))))
        #: pools replaced by the watchdog since the transport was made.
        self.rebuilds = 0

    def _new_shard(self, index: int) -> _Shard:
        return _Shard(self._new_pool, index)

    def _new_pool(self, route: Proxy | None) -> httpcore.AsyncConnectionPool:
        import httpcore

        from dyte_async._transport._reuse import GuardedBackend

        if self._backend is None:
            self._backend = GuardedBackend()
        proxy = None
        if route is not None:
            proxy = httpcore.Proxy(
                url=route.url,
                auth=route.auth,
                ssl_context=self._ssl_context if route.scheme == "https" else None,
            )
        return httpcore.AsyncConnectionPool(
            ssl_context=self._ssl_context,
            proxy=proxy,
            network_backend=self._backend,
            max_connections=self._per_pool,
            max_keepalive_connections=self._per_pool,
            keepalive_expiry=self._keepalive_expiry,
        )

    @property
    def pool(self) -> httpcore.AsyncConnectionPool:
        """The httpcore pool the next request will use (for inspection and tests): the
        next shard's, the one it used last."""
        return self._shards[self._free[-1] if self._free else 0].pool

    @property
    def pools(self) -> list[httpcore.AsyncConnectionPool]:
        """Every current httpcore pool of every shard."""
        return [pool for shard in self._shards for pool in shard.pools.values()]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` on a free shard, behind the semaphore.

        Args:
            request: the request.

        Returns:
            The answer, its body streamed from the shard's connection.

        Raises:
            httpx.TransportError: httpx's error for httpcore's (`PoolTimeout` when no
                place was free in time).
        """
        await self._enter(request)
        try:
            shard = await self._take()
        except BaseException:
            self._release_place()
            raise
        try:
            response = await self._send(shard, request)
        except BaseException:
            await self._leave(shard)
            raise

        async def done() -> None:
            await self._leave(shard)

        assert isinstance(response.stream, AsyncIterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(
                response.stream, request, done, cap=self._max_body, status=response.status
            ),
            extensions=response.extensions,
        )

    async def _enter(self, request: httpx.Request) -> None:
        """Take a place in front of the pools, within the request's pool timeout."""
        if self._gate is None:
            return
        timeout = request.extensions.get("timeout") or {}
        pool = timeout.get("pool")
        with anyio.move_on_after(math.inf if pool is None else pool) as scope:
            await self._gate.acquire()
        if scope.cancelled_caught:
            raise httpx.PoolTimeout("no connection was free in time", request=request)

    def _release_place(self) -> None:
        if self._gate is not None:
            self._gate.release()

    async def _take(self) -> _Shard:
        """The free shard used last, its pool replaced first if it leaked (the watchdog);
        without a semaphore, the one shared pool."""
        if self._gate is None:
            return self._shards[0]
        shard = self._shards[self._free.pop()]
        if shard.leaked():
            try:
                shard = await self._replace(shard)
            except BaseException:
                self._free.append(shard.index)
                raise
        return shard

    async def _leave(self, shard: _Shard) -> None:
        """Give back the shard and the place."""
        if self._gate is not None:
            self._free.append(shard.index)
            self._release_place()

    async def _send(self, shard: _Shard, request: httpx.Request) -> httpcore.Response:
        import httpcore

        url = request.url
        routes = self._proxy
        pool = (
            shard.pool
            if routes is None
            else shard.pool_for(routes.route(url.scheme, url.host, url.port))
        )
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        try:
            return await pool.handle_async_request(core_request)
        except httpcore_errors() as exc:
            raise from_httpcore(exc, request) from exc

    async def _replace(self, shard: _Shard) -> _Shard:
        """Put a new pool in `shard`'s place for the caller; close the old one."""
        self.rebuilds += 1
        new = self._shards[shard.index] = self._new_shard(shard.index)
        await _close(shard)
        return new

    async def aclose(self) -> None:
        """Close every pool."""
        for shard in self._shards:
            await _close(shard)


async def _close(shard: _Shard) -> None:
    with anyio.CancelScope(shield=True):
        for pool in shard.pools.values():
            await pool.aclose()
