"""How the backends' exceptions become httpx's.

The pipeline reads an httpx `ConnectError` / `ConnectTimeout` / `PoolTimeout` as "the
request never reached the server" (a write may then be resent), and any other transport
error after a connection existed as ambiguous. Both mappings keep that meaning.

Why not httpx-aiohttp's mapping: it turns a dropped connection (`ServerDisconnectedError`)
and a refused one into `httpx.ConnectTimeout`, which would let the pipeline resend a POST
that may have been acted on.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import httpx

from dyte_async._redact import MASK, excerpt, is_secret_name, secrets_of

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "TransportCause",
    "aiohttp_errors",
    "from_aiohttp",
    "from_httpcore",
    "httpcore_errors",
    "sanitize",
]

_Table = tuple[tuple[type[BaseException], type[httpx.TransportError]], ...]


@functools.cache
def _aiohttp_table() -> _Table:
    import asyncio

    import aiohttp

    # Most specific first. "Unsent" errors: the connection was never made, or no
    # connection was free in time. Everything after a connection existed is ambiguous.
    return (
        (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
        (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
        (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
        (aiohttp.ClientConnectorError, httpx.ConnectError),  # refused, DNS, TLS handshake
        (aiohttp.ServerFingerprintMismatch, httpx.ConnectError),
        (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
        (aiohttp.ClientPayloadError, httpx.RemoteProtocolError),
        # A proxy refused the CONNECT (407, 502, ...): as httpcore's `ProxyError`.
        (aiohttp.ClientHttpProxyError, httpx.ProxyError),
        (aiohttp.ClientResponseError, httpx.RemoteProtocolError),  # malformed answer
        (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
        (aiohttp.NonHttpUrlClientError, httpx.UnsupportedProtocol),
        (aiohttp.ClientConnectionError, httpx.ReadError),  # reset, broken pipe, ...
        # A total timeout: asyncio's TimeoutError, not the builtin one before Python 3.11.
        (asyncio.TimeoutError, httpx.ReadTimeout),
        (TimeoutError, httpx.ReadTimeout),
        (aiohttp.ClientError, httpx.TransportError),
    )


@functools.cache
def _httpcore_table() -> _Table:
    import httpcore

    # httpx's own mapping (httpx/_transports/default.py), most specific first.
    return (
        (httpcore.ConnectTimeout, httpx.ConnectTimeout),
        (httpcore.ReadTimeout, httpx.ReadTimeout),
        (httpcore.WriteTimeout, httpx.WriteTimeout),
        (httpcore.PoolTimeout, httpx.PoolTimeout),
        (httpcore.TimeoutException, httpx.TimeoutException),
        (httpcore.ConnectError, httpx.ConnectError),
        (httpcore.ReadError, httpx.ReadError),
        (httpcore.WriteError, httpx.WriteError),
        (httpcore.NetworkError, httpx.NetworkError),
        (httpcore.ProxyError, httpx.ProxyError),
        (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
        (httpcore.LocalProtocolError, httpx.LocalProtocolError),
        (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
        (httpcore.ProtocolError, httpx.ProtocolError),
    )


def aiohttp_errors() -> tuple[type[BaseException], ...]:
    """The exceptions `from_aiohttp` maps (aiohttp's `ClientError`, and `TimeoutError`)."""
    return tuple(source for source, _ in _aiohttp_table()[-3:])


def httpcore_errors() -> tuple[type[BaseException], ...]:
    """The exceptions `from_httpcore` maps (every httpcore error class)."""
    return tuple(source for source, _ in _httpcore_table())


def _lookup(
    table: Sequence[tuple[type[BaseException], type[httpx.TransportError]]], exc: BaseException
) -> type[httpx.TransportError]:
    for source, target in table:
        if isinstance(exc, source):
            return target
    return httpx.TransportError


def from_aiohttp(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    """The httpx error of the same meaning as an aiohttp one.

    Args:
        exc: an aiohttp error (or a `TimeoutError` from one of its timeouts).
        request: the request that failed.

    Returns:
        The httpx error to raise (``from exc``).
    """
    message = excerpt(str(exc), secrets_of(request.headers)) or type(exc).__name__
    return _lookup(_aiohttp_table(), exc)(message, request=request)


def from_httpcore(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    """The httpx error httpx's own transport raises for an httpcore one.

    Args:
        exc: an httpcore error.
        request: the request that failed.

    Returns:
        The httpx error to raise (``from exc``).
    """
    return _lookup(_httpcore_table(), exc)(
        excerpt(str(exc), secrets_of(request.headers)), request=request
    )


class TransportCause(Exception):
    """What stands in for a backend's exception under an httpx one: its class and a
    redacted excerpt of its message (aiohttp's carry the request headers, httpcore's may
    quote the server's bytes)."""


def sanitize(exc: httpx.HTTPError) -> httpx.HTTPError:
    """`exc`, changed in place so that nothing in it or under it holds a credential.

    Its message becomes a redacted excerpt; its `request` a copy whose secret headers
    (`Authorization`, ...) are masked and which has no body; the exception under it
    (`__cause__`, else `__context__`) a `TransportCause` naming that exception's class.
    The exception keeps its identity and class (the pipeline's callers may rely on both).

    Args:
        exc: an httpx error, as a transport or httpx raised it.

    Returns:
        `exc`.
    """
    request = _request_of(exc)
    secrets = secrets_of(request.headers) if request is not None else ()
    exc.args = (excerpt(str(exc), secrets),)
    if request is not None:
        exc.request = httpx.Request(
            request.method,
            request.url,
            headers=[
                (name, MASK if is_secret_name(name) else value)
                for name, value in request.headers.items()
            ],
        )
    origin = exc.__cause__ or exc.__context__
    if origin is not None and not isinstance(origin, TransportCause):
        name = f"{type(origin).__module__}.{type(origin).__qualname__}"
        detail = excerpt(str(origin), secrets)
        exc.__cause__ = TransportCause(f"{name}: {detail}" if detail else name)
    exc.__context__ = None
    exc.__suppress_context__ = True
    return exc


def _request_of(exc: httpx.HTTPError) -> httpx.Request | None:
    try:
        return exc.request
    except RuntimeError:  # no request attached
        return None
