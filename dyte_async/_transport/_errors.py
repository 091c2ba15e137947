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

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["aiohttp_errors", "from_aiohttp", "from_httpcore", "httpcore_errors"]

_Table = tuple[tuple[type[BaseException], type[httpx.TransportError]], ...]


@functools.cache
def _aiohttp_table() -> _Table:
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
        (aiohttp.ClientResponseError, httpx.RemoteProtocolError),  # malformed answer
        (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
        (aiohttp.NonHttpUrlClientError, httpx.UnsupportedProtocol),
        (aiohttp.ClientConnectionError, httpx.ReadError),  # reset, broken pipe, ...
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
    return tuple(source for source, _ in _aiohttp_table()[-2:])


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
    return _lookup(_aiohttp_table(), exc)(str(exc) or type(exc).__name__, request=request)


def from_httpcore(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    """The httpx error httpx's own transport raises for an httpcore one.

    Args:
        exc: an httpcore error.
        request: the request that failed.

    Returns:
        The httpx error to raise (``from exc``).
    """
    return _lookup(_httpcore_table(), exc)(str(exc), request=request)
