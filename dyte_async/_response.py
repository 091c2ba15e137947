"""Reading an answer: the `{success, data, paging}` envelope, or the error it means."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs
import httpx

from dyte_async._redact import MASK, excerpt, is_secret_name, redact_data, redact_text, secrets_of
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
    body, problem = _json_or_problem(response)
    if problem is not None:
        # Raised outside the `except`: the JSON error (whose `doc` is the whole body) must
        # not stay behind as `__context__`.
        raise ResponseDecodeError(
            f"{method} {path}: answer {response.status_code} is not JSON ({problem})",
            status_code=response.status_code,
            body=_text(response),
        )
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


def _json_or_problem(response: httpx.Response) -> tuple[Any, str | None]:
    """The decoded body, or None and what is wrong with it (no server bytes quoted)."""
    try:
        return _json(response), None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None, excerpt(str(exc), _secrets(response))


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
    secrets = _secrets(response)
    if message is None:
        message = response.reason_phrase or f"HTTP {status}"
    message = excerpt(message, secrets)
    # A 200 with success:false is classed by its error code when that is an error status.
    effective = status
    if status < 400 and isinstance(code, int) and 400 <= code <= 599:
        effective = code
    cls = status_error_class(effective) if effective >= 400 else APIStatusError
    headers = {
        name: MASK if is_secret_name(name) else redact_text(value, secrets)
        for name, value in response.headers.items()
    }
    request_id = next((headers[h] for h in _REQUEST_ID_HEADERS if h in headers), None)
    kwargs: dict[str, Any] = {
        "status_code": status,
        "code": excerpt(code, secrets) if isinstance(code, str) else code,
        "request_id": request_id,
        "body": redact_data(body, secrets),
        "headers": headers,
        "method": method,
        "url": path,
    }
    if cls is RateLimitError:
        return RateLimitError(message, retry_after=parse_retry_after(response.headers), **kwargs)
    return cls(message, **kwargs)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _secrets(response: httpx.Response) -> tuple[str, ...]:
    """The credentials the request carried (to mask wherever the answer echoes them)."""
    try:
        request = response.request
    except RuntimeError:  # a response made without its request
        return ()
    return secrets_of(request.headers)


def _text(response: httpx.Response) -> str:
    """The body as text, redacted (`_redact`), at most 2,000 characters."""
    try:
        text = response.content.decode("utf-8", errors="replace")
    except Exception:  # pragma: no cover - content is bytes; decode with replace cannot fail
        return ""
    return excerpt(text, _secrets(response), limit=2000)
