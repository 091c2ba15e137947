"""Reading an answer: the `{success, data, paging}` envelope, or the error it means."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs
import httpx

from dyte_async._retry import parse_retry_after
from dyte_async.errors import (
    APIStatusError,
    RateLimitError,
    ResponseDecodeError,
    status_error_class,
)

__all__ = ["Envelope", "decode_envelope", "error_from_response"]

_REQUEST_ID_HEADERS = ("x-request-id", "dyte-request-id", "cf-ray")


@attrs.frozen(slots=True)
class Envelope:
    """A successful answer: its `data`, and the whole decoded body (for `paging`)."""

    data: Any
    body: Mapping[str, Any]
    status_code: int


#: Deepest nesting of arrays and objects accepted in an answer (the API's go 4 or 5 deep).
MAX_JSON_DEPTH = 64


class _TooDeep(ValueError):
    """The JSON nests deeper than `MAX_JSON_DEPTH`."""

    def __init__(self) -> None:
        super().__init__(f"nested deeper than {MAX_JSON_DEPTH} levels")


def _too_deep(value: Any) -> bool:
    """Whether `value` nests arrays/objects deeper than `MAX_JSON_DEPTH` (iteratively)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > MAX_JSON_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _json(response: httpx.Response) -> Any:
    """The body's JSON value.

    Raises:
        ValueError: empty, not JSON or not UTF-8 (`json`'s own errors), or `_TooDeep`
            (also when `json.loads` itself runs out of stack).
    """
    content = response.content
    if not content:
        raise ValueError("empty body")
    try:
        value = json.loads(content)
    except RecursionError:
        raise _TooDeep from None
    if isinstance(value, (dict, list)) and _too_deep(value):
        raise _TooDeep
    return value


def decode_envelope(response: httpx.Response, *, method: str, path: str) -> Envelope:
    """Decode a 2xx answer.

    Raises:
        ResponseDecodeError: the body is not a JSON object, or has no `data`.
        APIStatusError: the body says `success: false`.
    """
    if response.status_code == 204 or (method == "DELETE" and not response.content):
        return Envelope(data=None, body={}, status_code=response.status_code)
    try:
        body = _json(response)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ResponseDecodeError(
            f"{method} {path}: answer {response.status_code} is not JSON ({exc})",
            status_code=response.status_code,
            body=_text(response),
        ) from None
    if not isinstance(body, dict):
        raise ResponseDecodeError(
            f"{method} {path}: expected a JSON object, got {type(body).__name__}",
            status_code=response.status_code,
            body=_text(response),
        )
    if body.get("success") is False:
        raise _status_error(response, body, method=method, path=path)
    if "data" not in body:
        # The disable endpoint's schema puts the object under "LivestreamBase".
        if isinstance(body.get("LivestreamBase"), dict):
            return Envelope(
                data=body["LivestreamBase"], body=body, status_code=response.status_code
            )
        raise ResponseDecodeError(
            f"{method} {path}: the answer has no 'data'",
            status_code=response.status_code,
            body=_text(response),
        )
    return Envelope(data=body["data"], body=body, status_code=response.status_code)


def error_from_response(response: httpx.Response, *, method: str, path: str) -> APIStatusError:
    """The `APIStatusError` subclass for a non-2xx answer, whatever its body.

    Raises:
        ResponseDecodeError: the body is JSON nested deeper than `MAX_JSON_DEPTH`.
    """
    try:
        body: Any = _json(response)
    except _TooDeep as exc:
        raise ResponseDecodeError(
            f"{method} {path}: error answer {response.status_code} is JSON {exc}",
            status_code=response.status_code,
            body=_text(response),
        ) from None
    except ValueError:
        body = _text(response)
    return _status_error(response, body, method=method, path=path)


def _status_error(response: httpx.Response, body: Any, *, method: str, path: str) -> APIStatusError:
    status = response.status_code
    code: int | str | None = None
    message: str | None = None
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):
            raw_code = error.get("code")
            code = raw_code if isinstance(raw_code, (int, str)) else None
            message = _str_or_none(error.get("message"))
        elif isinstance(error, str):
            message = error
        if message is None:
            message = _str_or_none(body.get("message"))
    if message is None:
        message = response.reason_phrase or f"HTTP {status}"
    # A 200 with success:false is classed by its error code when that is an error status.
    effective = status
    if status < 400 and isinstance(code, int) and 400 <= code <= 599:
        effective = code
    cls = status_error_class(effective) if effective >= 400 else APIStatusError
    headers = dict(response.headers)
    request_id = next((headers[h] for h in _REQUEST_ID_HEADERS if h in headers), None)
    kwargs: dict[str, Any] = {
        "status_code": status,
        "code": code,
        "request_id": request_id,
        "body": body,
        "headers": headers,
        "method": method,
        "url": path,
    }
    if cls is RateLimitError:
        return RateLimitError(message, retry_after=parse_retry_after(response.headers), **kwargs)
    return cls(message, **kwargs)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _text(response: httpx.Response) -> str:
    try:
        return response.content.decode("utf-8", errors="replace")[:2000]
    except Exception:  # pragma: no cover - content is bytes; decode with replace cannot fail
        return ""
