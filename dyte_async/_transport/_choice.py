"""Which transport the client we build uses, chosen inside the event loop.

`http_backend="auto"` (the default) picks, when the client is first used:

- on asyncio: `AiohttpTransport`. Measured (benchmarks/): 5-10x the throughput of
  httpcore's pool at 100 and more requests in flight, and cancellation does not poison it
  (HAZARDS.md 1, 2);
- on trio: `GuardedHTTPCoreTransport`.

`http_backend="aiohttp"` or `"httpcore"` forces one (aiohttp needs asyncio).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import httpx

from dyte_async._body import DEFAULT_MAX_RESPONSE_BYTES
from dyte_async._transport._aiohttp import AiohttpTransport
from dyte_async._transport._httpcore import GuardedHTTPCoreTransport
from dyte_async.errors import ConfigurationError

if TYPE_CHECKING:
    from dyte_async._transport._proxy import ProxyRoutes

__all__ = ["HTTP_BACKENDS", "HttpBackend", "build_transport", "resolve_backend"]

HttpBackend = Literal["auto", "aiohttp", "httpcore"]
HTTP_BACKENDS: tuple[HttpBackend, ...] = ("auto", "aiohttp", "httpcore")


def _running_library() -> str | None:
    try:
        import sniffio

        return sniffio.current_async_library()
    except Exception:  # no event loop detected (or sniffio missing): assume nothing
        return None


def resolve_backend(requested: str) -> Literal["aiohttp", "httpcore"]:
    """The transport backend to build for `requested`, on the running async library.

    Args:
        requested: "auto", "aiohttp" or "httpcore".

    Returns:
        "aiohttp" or "httpcore".

    Raises:
        ConfigurationError: an unknown name, or "aiohttp" outside asyncio.
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
        return "aiohttp"
    return "aiohttp" if library == "asyncio" else "httpcore"


def build_transport(
    backend: str,
    limits: httpx.Limits,
    max_body: int = DEFAULT_MAX_RESPONSE_BYTES,
    *,
    proxy: ProxyRoutes | None = None,
) -> httpx.AsyncBaseTransport:
    """The transport for `backend` on the running loop.

    Args:
        backend: "auto", "aiohttp" or "httpcore".
        limits: the connection limits of the pool.
        max_body: the most raw bytes of one answer read (`max_response_bytes`).
        proxy: the proxy of each request (`_proxy`), or None: direct.

    Returns:
        An `AiohttpTransport` or a `GuardedHTTPCoreTransport`.

    Raises:
        ConfigurationError: see `resolve_backend`.
    """
    if resolve_backend(backend) == "aiohttp":
        return AiohttpTransport(limits=limits, max_body=max_body, proxy=proxy)
    return GuardedHTTPCoreTransport(limits=limits, max_body=max_body, proxy=proxy)
