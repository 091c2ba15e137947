"""The clients the benchmarks compare: each opens, yields one `call()`, and closes.

Raw clients read the body (bytes) and nothing else; dyte_async's `get_active` also decodes
the envelope and the livestream (cattrs). Every pool allows 100 connections, like
dyte_async's default `max_concurrency`; requests beyond that queue in each client's own
way (in the pool for the raw clients, in dyte_async's pipeline for ours).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

Call = Callable[[], Awaitable[Any]]
Opener = Callable[[str], contextlib.AbstractAsyncContextManager[Call]]

#: the path every client requests (dyte_async builds it from `get_active(MEETING)`).
MEETING = "bbb03399-d0a5-4b1a-9d5c-6f3a2a3e5b11"
PATH = f"/v2/meetings/{MEETING}/active-livestream"
POOL = 100
#: generous, so that queueing in a pool shows as latency, not as errors.
TIMEOUT = 60.0


@dataclass(frozen=True)
class Client:
    key: str
    label: str
    backend: str  # "asyncio" or "trio"
    open: Opener
    #: the raw client whose transport this one runs on (for the overhead of our layers).
    baseline: str | None = None
    #: a module this client needs (left out of the run when it is not installed).
    requires: str | None = None

    def available(self) -> bool:
        """Whether what this client needs is installed."""
        if self.requires is None:
            return True
        import importlib.util

        return importlib.util.find_spec(self.requires) is not None


@contextlib.asynccontextmanager
async def raw_aiohttp(base: str) -> AsyncIterator[Call]:
    import aiohttp

    url = base + PATH
    connector = aiohttp.TCPConnector(limit=POOL)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=TIMEOUT)
    ) as session:

        async def call() -> bytes:
            async with session.get(url) as response:
                response.raise_for_status()
                return await response.read()

        yield call


def _httpx_call(client: Any, url: str) -> Call:
    async def call() -> bytes:
        response = await client.get(url)
        response.raise_for_status()
        return bytes(response.content)

    return call


@contextlib.asynccontextmanager
async def raw_httpx(base: str) -> AsyncIterator[Call]:
    import httpx

    # httpx's defaults (100 connections, 20 kept alive) but a long timeout.
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        yield _httpx_call(client, base + PATH)


@contextlib.asynccontextmanager
async def raw_httpx_aiohttp(base: str) -> AsyncIterator[Call]:
    import httpx
    import httpx_aiohttp

    transport = httpx_aiohttp.AiohttpTransport(limits=httpx.Limits(max_connections=POOL))
    async with httpx.AsyncClient(transport=transport, timeout=TIMEOUT) as client:
        yield _httpx_call(client, base + PATH)


@contextlib.asynccontextmanager
async def raw_httpx_dyte_aiohttp(base: str) -> AsyncIterator[Call]:
    import httpx

    from dyte_async._transport import AiohttpTransport

    limits = httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL)
    transport = AiohttpTransport(limits=limits)
    async with httpx.AsyncClient(transport=transport, timeout=TIMEOUT) as client:
        yield _httpx_call(client, base + PATH)


@contextlib.asynccontextmanager
async def raw_httpx_guarded(base: str) -> AsyncIterator[Call]:
    import httpx

    from dyte_async._transport import GuardedHTTPCoreTransport

    limits = httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL)
    transport = GuardedHTTPCoreTransport(limits=limits)
    async with httpx.AsyncClient(transport=transport, timeout=TIMEOUT) as client:
        yield _httpx_call(client, base + PATH)


def dyte(backend: str, transport: str | None = None, *, limiter: bool = False) -> Opener:
    """dyte_async's `get_active`; `limiter`: the default rate limit on (never binding here)."""

    @contextlib.asynccontextmanager
    async def open_dyte(base: str) -> AsyncIterator[Call]:
        from dyte_async import AsyncDyte, RateLimit

        options: dict[str, Any] = {"http_backend": backend}
        # Off, or on and never binding (20,000/s here) but recycling its tokens, as a
        # long-running client's limiter does.
        options["rate_limit"] = RateLimit(2000, 0.1) if limiter else None
        if transport == "httpx-aiohttp":
            import httpx
            import httpx_aiohttp

            options["transport"] = httpx_aiohttp.AiohttpTransport(
                limits=httpx.Limits(max_connections=POOL)
            )
        async with AsyncDyte("bench-org", "bench-key", base_url=base + "/v2", **options) as client:
            livestreams = client.livestreams

            async def call() -> Any:
                return await livestreams.get_active(MEETING)

            yield call

    return open_dyte


@contextlib.asynccontextmanager
async def cloudflare_aiohttp(base: str) -> AsyncIterator[Call]:
    """The peer: Cloudflare's own SDK (`cloudflare` on PyPI) on its aiohttp backend,
    reading the same answer as a typed model (RealtimeKit's path; the server answers any)."""
    from cloudflare import AsyncCloudflare, DefaultAioHttpClient

    async with AsyncCloudflare(
        api_token="bench-token",
        base_url=base + "/client/v4",
        http_client=DefaultAioHttpClient(),
        timeout=TIMEOUT,
    ) as client:
        livestreams = client.realtime_kit.livestreams

        async def call() -> Any:
            return await livestreams.get_meeting_active_livestreams(
                MEETING, account_id="bench-account", app_id="bench-app"
            )

        yield call


CLIENTS: tuple[Client, ...] = (
    Client("aiohttp", "raw aiohttp", "asyncio", raw_aiohttp),
    Client("httpx", "raw httpx (httpcore)", "asyncio", raw_httpx),
    Client("httpx+httpx_aiohttp", "raw httpx + httpx-aiohttp", "asyncio", raw_httpx_aiohttp),
    Client(
        "httpx+dyte_aiohttp", "raw httpx + our AiohttpTransport", "asyncio", raw_httpx_dyte_aiohttp
    ),
    Client(
        "dyte[aiohttp]",
        "dyte_async, aiohttp (asyncio default)",
        "asyncio",
        dyte("aiohttp"),
        baseline="httpx+dyte_aiohttp",
    ),
    Client(
        "dyte[aiohttp]+limiter",
        "dyte_async, aiohttp, default rate limit on (not binding)",
        "asyncio",
        dyte("aiohttp", limiter=True),
        baseline="httpx+dyte_aiohttp",
    ),
    Client(
        "dyte[httpx_aiohttp]",
        "dyte_async on httpx-aiohttp's transport",
        "asyncio",
        dyte("auto", "httpx-aiohttp"),
        baseline="httpx+httpx_aiohttp",
    ),
    Client("httpx+guarded", "raw httpx + our guarded httpcore", "asyncio", raw_httpx_guarded),
    Client(
        "dyte[httpcore]",
        "dyte_async, httpcore (forced)",
        "asyncio",
        dyte("httpcore"),
        baseline="httpx+guarded",
    ),
    Client("trio:httpx", "raw httpx on trio", "trio", raw_httpx),
    Client(
        "trio:httpx+guarded", "raw httpx + our guarded httpcore, trio", "trio", raw_httpx_guarded
    ),
    Client(
        "trio:dyte",
        "dyte_async on trio (httpcore, default)",
        "trio",
        dyte("auto"),
        baseline="trio:httpx+guarded",
    ),
    Client(
        "trio:dyte+limiter",
        "dyte_async on trio, default rate limit on (not binding)",
        "trio",
        dyte("auto", limiter=True),
        baseline="trio:httpx+guarded",
    ),
    Client(
        "cloudflare[aiohttp]",
        "Cloudflare SDK on its aiohttp backend (the peer)",
        "asyncio",
        cloudflare_aiohttp,
        requires="cloudflare",
    ),
)
