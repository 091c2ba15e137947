"""What a failed attempt means: a `_retry.Failure` from an error answer or an httpx error.

The distinctions that matter for a retry: transient or not (worth another attempt), and,
for a request that must not happen twice, whether it can have reached the server ("never
sent": connect errors, pool timeouts, a 429) or is ambiguous (a `recover` hook is asked).
"""

from __future__ import annotations

import httpx

from dyte_async._response import error_from_response
from dyte_async._retry import Failure, RetryPolicy, parse_retry_after
from dyte_async._transport._errors import sanitize
from dyte_async.errors import APIConnectionError, APITimeoutError, RateLimitError

__all__ = ["network_failure", "status_failure"]

# Failures worth another attempt (for a non-idempotent request only when never sent).
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
# Server errors after which a write may have happened (a `recover` hook is asked).
_AMBIGUOUS_STATUSES = frozenset({500, 502, 504})
# The httpx-aiohttp package's transport (a user may pass it) maps every
# aiohttp.ClientConnectionError, including ServerDisconnectedError (the connection dropped
# mid-request), to httpx.ConnectTimeout. So a connect error caused by an aiohttp exception
# counts as "never sent" only for these aiohttp classes (matched by name along the MRO, so
# aiohttp need not be imported); our own `_transport.AiohttpTransport` maps the same way.
_AIOHTTP_UNSENT = frozenset(
    {"ClientConnectorError", "ConnectionTimeoutError", "ServerFingerprintMismatch"}
)


def status_failure(
    response: httpx.Response, *, method: str, path: str, idempotent: bool, policy: RetryPolicy
) -> Failure:
    """What an error answer means for a retry.

    Args:
        response: the answer, not a success.
        method: the call's HTTP method (for the error).
        path: the call's path (for the error).
        idempotent: False for a write that must not happen twice.
        policy: supplies the retried statuses.

    Returns:
        The failure; its `retry_after` is the server's, if any.
    """
    status = response.status_code
    error = error_from_response(response, method=method, path=path)
    retry_after: float | None = None
    if isinstance(error, RateLimitError):
        retry_after = error.retry_after
    elif status in policy.retry_statuses:
        retry_after = parse_retry_after(response.headers)
    transient = status in policy.retry_statuses
    return Failure(
        error=error,
        retryable=transient and (idempotent or status == 429),
        transient=transient,
        ambiguous=not idempotent and status in _AMBIGUOUS_STATUSES,
        retry_after=retry_after,
        reason=f"status {status}",
        maybe_applied=status >= 500,
    )


def _never_sent(exc: httpx.HTTPError) -> bool:
    """Whether `exc` proves the request never reached the server."""
    if isinstance(exc, httpx.PoolTimeout):
        return True
    if not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        return False
    origin = exc.__cause__
    if origin is None or not type(origin).__module__.startswith("aiohttp"):
        return True
    return any(cls.__name__ in _AIOHTTP_UNSENT for cls in type(origin).__mro__)


def network_failure(method: str, path: str, exc: httpx.HTTPError, idempotent: bool) -> Failure:
    """What a transport failure means for a retry.

    Args:
        method: the call's HTTP method (for the error).
        path: the call's path (for the error).
        exc: the httpx error.
        idempotent: False for a write that must not happen twice.

    Returns:
        The failure, its error an `APITimeoutError` or `APIConnectionError`; its cause is
        `exc` with every secret taken out of it and of what it carries
        (`_transport._errors.sanitize`).
    """
    transient = isinstance(exc, _TRANSIENT)
    # Decided before `sanitize`, which replaces the aiohttp cause `_never_sent` reads.
    unsent = transient and _never_sent(exc)
    exc = sanitize(exc)
    name = type(exc).__name__
    detail = str(exc)
    summary = f"{name}: {detail}" if detail else name
    error: APIConnectionError
    if isinstance(exc, httpx.TimeoutException):
        error = APITimeoutError(f"{method} {path}: timed out ({summary})", method=method, url=path)
    else:
        error = APIConnectionError(
            f"{method} {path}: connection failed ({summary})", method=method, url=path
        )
    return Failure(
        error=error,
        cause=exc,
        retryable=transient and (idempotent or unsent),
        transient=transient,
        ambiguous=transient and not idempotent and not unsent,
        retry_after=None,
        reason=name,
        maybe_applied=transient and not unsent,
    )
