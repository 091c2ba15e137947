"""The error tree. Every failure a call can end in is one of these.

```
DyteError
├── ConfigurationError           (also a ValueError)
├── InvalidArgumentError         (also a ValueError) bad argument, caught before sending
├── ClientClosedError            (also a RuntimeError) the client was used after aclose()
├── APIConnectionError           network failure after retries
│   └── APITimeoutError          (also a TimeoutError)
├── APIStatusError               .status_code .code .message .request_id .body
│   ├── BadRequestError 400
│   ├── AuthenticationError 401
│   ├── PermissionDeniedError 403
│   ├── NotFoundError 404
│   ├── ConflictError 409
│   ├── UnprocessableEntityError 422
│   ├── RateLimitError 429       .retry_after
│   └── InternalServerError >=500
├── ResponseDecodeError          body not JSON, or not a shape we know
│   └── ResponseTooLargeError    body past max_response_bytes (never retried)
├── LivestreamErroredError       a wait saw ERRORED
├── WaitTimeoutError             (also a TimeoutError) .last_status
└── WebhookSignatureError
```

Error messages never carry credentials, tokens or stream keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias, Union

if TYPE_CHECKING:
    from dyte_async.models import Livestream, LivestreamStatus

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "DyteError",
    "InternalServerError",
    "InvalidArgumentError",
    "LivestreamErroredError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseDecodeError",
    "ResponseTooLargeError",
    "UnprocessableEntityError",
    "WaitTimeoutError",
    "WebhookSignatureError",
    "status_error_class",
]


class DyteError(Exception):
    """Base class of every error raised by dyte_async."""


class ConfigurationError(DyteError, ValueError):
    """The client cannot be configured as asked (missing credentials, unsafe base URL, ...)."""


class InvalidArgumentError(DyteError, ValueError):
    """An argument breaks a rule of the API; nothing was sent."""


#: A decoded JSON value: what `APIStatusError.body` holds.
JsonValue: TypeAlias = Union["dict[str, JsonValue]", "list[JsonValue]", str, int, float, bool, None]


class ClientClosedError(DyteError, RuntimeError):
    """The client was used after `aclose()` (or outside its `async with` block)."""


class APIConnectionError(DyteError):
    """The request could not be completed on the network (after any retries).

    Attributes:
        method: the HTTP method of the request.
        url: the request URL (never with credentials).
    """

    def __init__(self, message: str, *, method: str = "", url: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url


class APITimeoutError(APIConnectionError, TimeoutError):
    """The call's deadline passed, or an attempt timed out and no retry was left."""


class APIStatusError(DyteError):
    """The server answered with an error status (or `success: false`).

    Attributes:
        status_code: the HTTP status code.
        code: the `error.code` of Dyte's error envelope, when present.
        message: the server's message (or a summary of the status).
        request_id: the request id header of the answer, when present.
        body: the decoded JSON body, or the raw text when it was not JSON.
        headers: the response headers.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: int | str | None = None,
        request_id: str | None = None,
        body: JsonValue = None,
        headers: dict[str, str] | None = None,
        method: str = "",
        url: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        self.request_id = request_id
        self.body: JsonValue = body
        self.headers: dict[str, str] = headers or {}
        self.method = method
        self.url = url

    def __str__(self) -> str:
        where = f" ({self.method} {self.url})" if self.method else ""
        return f"{self.status_code}: {self.message}{where}"


class BadRequestError(APIStatusError):
    """400 Bad Request."""


class AuthenticationError(APIStatusError):
    """401 Unauthorized: wrong organization id, API key or token."""


class PermissionDeniedError(APIStatusError):
    """403 Forbidden."""


class NotFoundError(APIStatusError):
    """404 Not Found (also: no active livestream for a meeting)."""


class ConflictError(APIStatusError):
    """409 Conflict."""


class UnprocessableEntityError(APIStatusError):
    """422 Unprocessable Entity."""


class RateLimitError(APIStatusError):
    """429 Too Many Requests.

    Attributes:
        retry_after: seconds the server asked us to wait, when it said.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    """A 5xx answer."""


class ResponseDecodeError(DyteError):
    """The body was not JSON, or not a shape of the API we know.

    Attributes:
        status_code: the HTTP status of the answer.
        body: the raw text of the body (truncated to 2,000 characters).
    """

    def __init__(self, message: str, *, status_code: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.body: str = body[:2000]


class ResponseTooLargeError(ResponseDecodeError):
    """The answer's body (decoded) is larger than the client's `max_response_bytes`.

    Reading stopped at the cap and the connection was discarded; the call is not retried.
    `body` is empty (nothing of the answer is kept).
    """


class LivestreamErroredError(DyteError):
    """A wait saw the livestream in status ERRORED.

    Attributes:
        livestream: the `Livestream` as last seen.
        err_message: the session's `err_message`, when the API gave one.
    """

    def __init__(
        self,
        message: str,
        *,
        livestream: Livestream | None = None,
        err_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.livestream: Livestream | None = livestream
        self.err_message = err_message


class WaitTimeoutError(DyteError, TimeoutError):
    """A wait ran out of time.

    Attributes:
        last_status: the last status seen (None when nothing was seen yet).
        pending: for waits on many meetings, the meeting ids still pending.
    """

    def __init__(
        self,
        message: str,
        *,
        last_status: LivestreamStatus | None = None,
        pending: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.last_status: LivestreamStatus | None = last_status
        self.pending = pending


class WebhookSignatureError(DyteError):
    """A webhook's signature is missing, malformed or does not match its body."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The `APIStatusError` subclass for an HTTP status code."""
    if status_code >= 500:
        return InternalServerError
    return _BY_STATUS.get(status_code, APIStatusError)
