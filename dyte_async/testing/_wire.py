"""Transport-neutral request and response values, and the API's JSON envelopes.

The in-process transport and the socket server both turn what they receive into a
`WireRequest` and send back a `WireResponse`; everything between is plain data.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import attrs

__all__ = [
    "ApiError",
    "WireRequest",
    "WireResponse",
    "error_body",
    "error_response",
    "json_response",
    "reason_phrase",
]

Headers = tuple[tuple[str, str], ...]


@attrs.frozen
class WireRequest:
    """One HTTP request as the fake sees it.

    Attributes:
        method: upper-case HTTP method.
        path: the URL path, percent-decoded, without the query string.
        query_string: the raw query string (no leading `?`).
        headers: header pairs with lower-case names, in arrival order.
        body: the request body (already de-chunked).
        client: who sent it: `"in-process"` or the peer's host address.
    """

    method: str
    path: str
    query_string: str
    headers: Headers
    body: bytes
    client: str

    def header(self, name: str) -> str | None:
        """Return the first value of header `name` (case-insensitive), or None."""
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None


@attrs.frozen
class WireResponse:
    """One HTTP response: status, header pairs and the body bytes."""

    status: int
    headers: Headers
    body: bytes

    def header(self, name: str) -> str | None:
        """Return the first value of header `name` (case-insensitive), or None."""
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


class ApiError(Exception):
    """Raised by handlers to answer with the API's error envelope.

    Args:
        status: the HTTP status code (also the envelope's `error.code`).
        message: the envelope's `error.message`.
        headers: extra response headers.
    """

    def __init__(self, status: int, message: str, *, headers: Headers = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers

    def response(self) -> WireResponse:
        """Return the error as a response with the `{"success": false, ...}` envelope."""
        return error_response(self.status, self.message, headers=self.headers)


def reason_phrase(status: int) -> str:
    """Return the standard reason phrase of `status` ("Unknown" when there is none)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(status: int, obj: Any, *, headers: Headers = ()) -> WireResponse:
    """Return a JSON response.

    Args:
        status: the HTTP status code.
        obj: any JSON-serialisable value.
        headers: extra headers (content-type is added).

    Returns:
        The response.
    """
    return WireResponse(
        status=status,
        headers=(("content-type", "application/json; charset=utf-8"), *headers),
        body=_dumps(obj),
    )


def error_body(status: int, message: str) -> dict[str, Any]:
    """Return the API's error envelope `{"success": false, "error": {code, message}}`."""
    return {"success": False, "error": {"code": status, "message": message}}


def error_response(status: int, message: str, *, headers: Headers = ()) -> WireResponse:
    """Return a response carrying the error envelope.

    Args:
        status: the HTTP status code (also `error.code`).
        message: the human-readable message.
        headers: extra headers.

    Returns:
        The response.
    """
    return json_response(status, error_body(status, message), headers=headers)
