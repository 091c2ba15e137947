"""`GuardedHTTPCoreTransport`: httpcore's connection pool, guarded against its cancellation bug.

httpcore 1.0.x leaks a connection when a request is cancelled right after the pool assigned
it a brand-new connection (httpcore issue 1093, HAZARDS.md 1): that connection stays
"connecting", neither idle nor closed, forever, and enough of them exhaust the pool. Two
guards, on public httpcore API only (`AsyncConnectionPool`, its `connections`):

- a semaphore of the pool's size in front of it, so no request ever waits in the pool's
  own queue (where the leak happens); the wait for it counts against the pool timeout;
- a watchdog that replaces a pool seen leaking: at a request's start (when nothing is in
  flight, or at most every `check_interval` seconds) more busy connections than requests
  in flight; or a pool timeout although the semaphore let the request in (a healthy pool
  would have a connection for it). Such waits are capped at `stall_timeout` seconds, and
  the request is sent again, once, on the new pool: a pool timeout proves it was never
  sent. The old pool is closed (leaked connections with it) when its last request ends.

The connections are split over pools ("shards") of at most `SHARD_SIZE`: httpcore 1.0.x
re-scans every connection of a pool, for every idle one, at each request's start and end
(O(n^2): ~15 ms of CPU per request with 100 connections, about 60 requests/s). A request
goes to the shard with the fewest requests in flight, which has a free connection since the
semaphore admits no more requests than there are connections.
"""

from __future__ import annotations

import math
import ssl
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

import anyio
import httpx

from dyte_async._transport._errors import from_httpcore, httpcore_errors
from dyte_async._transport._tls import default_ssl_context

if TYPE_CHECKING:
    import httpcore

__all__ = ["SHARD_SIZE", "GuardedHTTPCoreTransport"]

#: The most connections one httpcore pool holds.
SHARD_SIZE = 10


class _Generation:
    """One httpcore pool, the requests using it, and the shard it serves."""

    __slots__ = ("in_flight", "pool", "shard")

    def __init__(self, pool: httpcore.AsyncConnectionPool, shard: int) -> None:
        self.pool = pool
        self.shard = shard
        self.in_flight = 0

    def leaked(self) -> int:
        """Connections busy with no request of ours behind them (0 when healthy)."""
        busy = sum(
            1
            for connection in self.pool.connections
            if not (connection.is_idle() or connection.is_closed())
        )
        return busy - self.in_flight


class _Body(httpx.AsyncByteStream):
    """httpcore's response body as httpx's, errors mapped; `on_close` runs once, at close."""

    __slots__ = ("_closed", "_on_close", "_request", "_stream")

    def __init__(
        self,
        stream: AsyncIterable[bytes],
        request: httpx.Request,
        on_close: Callable[[], Awaitable[None]],
    ) -> None:
        self._stream = stream
        self._request = request
        self._on_close = on_close
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._stream:
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
    """An httpx transport over httpcore's pool, with a semaphore and a watchdog (module doc).

    Args:
        limits: connection limits of each pool (and the semaphore's size).
        ssl_context: TLS settings (default: httpx's, verified).
        stall_timeout: the longest a request may wait for a connection inside the pool.
        check_interval: seconds between two leak checks under constant load.
    """

    def __init__(
        self,
        *,
        limits: httpx.Limits,
        ssl_context: ssl.SSLContext | None = None,
        stall_timeout: float = 2.0,
        check_interval: float = 1.0,
    ) -> None:
        self._ssl_context = ssl_context or default_ssl_context()
        capacity = limits.max_connections
        self._gate = anyio.Semaphore(capacity) if capacity else None
        self._stall_timeout = stall_timeout
        self._check_interval = check_interval
        self._next_check = 0.0
        self._retired: list[_Generation] = []
        self._limits = _split(limits)
        self._shards = [self._new_generation(i) for i in range(len(self._limits))]
        #: pools replaced by the watchdog since the transport was made.
        self.rebuilds = 0

    def _new_generation(self, shard: int) -> _Generation:
        import httpcore

        limits = self._limits[shard]
        pool = httpcore.AsyncConnectionPool(
            ssl_context=self._ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
        )
        return _Generation(pool, shard)

    @property
    def pool(self) -> httpcore.AsyncConnectionPool:
        """The current httpcore pool of the first shard (for inspection and tests)."""
        return self._shards[0].pool

    @property
    def pools(self) -> list[httpcore.AsyncConnectionPool]:
        """The current httpcore pool of every shard."""
        return [generation.pool for generation in self._shards]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` through the semaphore and the current pool.

        Args:
            request: the request.

        Returns:
            The answer, its body streamed from the pool.

        Raises:
            httpx.TransportError: httpx's error for httpcore's (`PoolTimeout` when no
                connection was free in time).
        """
        await self._enter(request)
        try:
            return await self._watched(request)
        except BaseException:
            self._leave()
            raise

    async def _enter(self, request: httpx.Request) -> None:
        """Take a place in front of the pool, within the request's pool timeout."""
        if self._gate is None:
            return
        timeout = request.extensions.get("timeout") or {}
        pool = timeout.get("pool")
        with anyio.move_on_after(math.inf if pool is None else pool) as scope:
            await self._gate.acquire()
        if scope.cancelled_caught:
            raise httpx.PoolTimeout("no connection was free in time", request=request)

    def _leave(self) -> None:
        if self._gate is not None:
            self._gate.release()

    async def _watched(self, request: httpx.Request) -> httpx.Response:
        """The watchdog around `_send`: a leak check, and one resend after a stall."""
        generation = min(self._shards, key=_in_flight)
        if generation.in_flight == 0 or time.monotonic() >= self._next_check:
            self._next_check = time.monotonic() + self._check_interval
            if generation.leaked() > 0:
                generation = await self._rebuild(generation)
        try:
            return await self._send(generation, request)
        except httpx.PoolTimeout:
            if not self._is_current(generation):
                raise
        # Never sent, although the semaphore let it in: once more, on a fresh pool.
        return await self._send(await self._rebuild(generation), request)

    def _is_current(self, generation: _Generation) -> bool:
        return self._shards[generation.shard] is generation

    async def _send(self, generation: _Generation, request: httpx.Request) -> httpx.Response:
        import httpcore

        generation.in_flight += 1
        _cap_pool_timeout(request, self._stall_timeout)
        url = request.url
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
            try:
                response = await generation.pool.handle_async_request(core_request)
            except httpcore_errors() as exc:
                raise from_httpcore(exc, request) from exc
        except BaseException:
            await self._release(generation)
            raise

        async def done() -> None:
            try:
                await self._release(generation)
            finally:
                self._leave()

        assert isinstance(response.stream, AsyncIterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response.stream, request, done),
            extensions=response.extensions,
        )

    async def _rebuild(self, generation: _Generation) -> _Generation:
        """Replace `generation`'s pool in its shard (unless done already); the new one."""
        shard = generation.shard
        if self._is_current(generation):
            self.rebuilds += 1
            self._shards[shard] = self._new_generation(shard)
            self._retired.append(generation)
            if generation.in_flight == 0:
                await self._close(generation)
        return self._shards[shard]

    async def _release(self, generation: _Generation) -> None:
        generation.in_flight -= 1
        if generation.in_flight == 0 and not self._is_current(generation):
            await self._close(generation)

    async def _close(self, generation: _Generation) -> None:
        if generation in self._retired:
            self._retired.remove(generation)
        with anyio.CancelScope(shield=True):
            await generation.pool.aclose()

    async def aclose(self) -> None:
        """Close every pool (the current one and those still draining)."""
        generations = [*self._retired, *self._shards]
        self._retired.clear()
        with anyio.CancelScope(shield=True):
            for generation in generations:
                await generation.pool.aclose()


def _in_flight(generation: _Generation) -> int:
    return generation.in_flight


def _split(limits: httpx.Limits) -> list[httpx.Limits]:
    """`limits` shared out over pools of at most `SHARD_SIZE` connections."""
    total = limits.max_connections
    if not total:
        return [limits]
    count = -(-total // SHARD_SIZE)
    keepalive = limits.max_keepalive_connections
    return [
        httpx.Limits(
            max_connections=_share(total, count, i),
            max_keepalive_connections=None if keepalive is None else _share(keepalive, count, i),
            keepalive_expiry=limits.keepalive_expiry,
        )
        for i in range(count)
    ]


def _share(total: int, count: int, index: int) -> int:
    """The `index`-th of `count` near-equal parts of `total`."""
    return total // count + (1 if index < total % count else 0)


def _cap_pool_timeout(request: httpx.Request, cap: float) -> None:
    timeout = request.extensions.get("timeout")
    if timeout is None:
        request.extensions["timeout"] = {"pool": cap}
        return
    pool = timeout.get("pool")
    if pool is None or pool > cap:
        request.extensions["timeout"] = {**timeout, "pool": cap}
