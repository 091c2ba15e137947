"""Reading an answer: the `{success, data, paging}` envelope, or the error it means."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
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

__all__ = ["Envelope", "decode_envelope", "error_from_response", "request_id_of"]

_REQUEST_ID_HEADERS = ("x-request-id", "dyte-request-id", "cf-ray")


@functools.cache
def _parser() -> Callable[[bytes], Any]:
    """orjson's `loads` when installed (the `speed` extra: about twice as fast as
    `json.loads` on the API's answers), else `json.loads`.

    What orjson refuses and `json.loads` accepts (NaN, Infinity, UTF-16) is read by
    `json.loads`, and errors are `json.loads`'s. One difference stays: orjson reads an
    integer past 64 bits as a float (the API sends none: its numbers are counts, seconds).
    """
    try:
        import orjson
    except ImportError:
        return json.loads
    fast, error, slow = orjson.loads, orjson.JSONDecodeError, json.loads

    def loads(content: bytes) -> Any:
        try:
            return fast(content)
        except error:
            return slow(content)

    return loads


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
    """The body's JSON value (`_json_bytes` of the response's content).

    Raises:
        ValueError: see `_json_bytes`.
    """
    return _json_bytes(response.content)


def _json_bytes(content: bytes) -> Any:
    """The JSON value of a body, parsed by orjson when installed (the `speed` extra).

    Raises:
        ValueError: empty, not JSON or not UTF-8 (the parser's own errors, all
            ValueErrors), or `_TooDeep` (also when the parser itself runs out of stack).
    """
    if not content:
        raise ValueError("empty body")
    try:
        value = _parser()(content)
    except RecursionError:
        raise _TooDeep from None
    # Each level opens with a bracket: a body with few of them cannot nest too deep.
    if (
        isinstance(value, (dict, list))
        and content.count(b"{") + content.count(b"[") > MAX_JSON_DEPTH
        and _too_deep(value)
    ):
        raise _TooDeep
    return value


def decode_envelope(response: httpx.Response, *, method: str, path: str) -> Envelope:
    """Decode a 2xx answer.

    Raises:
        ResponseDecodeError: the body is not a JSON object, or has no `data`.
        APIStatusError: the body says `success: false`.
    """
    return decode_answer(
        response.status_code,
        response.content,
        method=method,
        path=path,
        as_response=lambda: response,
    )


def decode_answer(
    status: int,
    content: bytes,
    *,
    method: str,
    path: str,
    as_response: Callable[[], httpx.Response],
) -> Envelope:
    """Decode a 2xx answer given as its status and body (read and decoded): the one
    decoder of both lanes (`decode_envelope` for an `httpx.Response`).

    Args:
        status: the answer's status code, 2xx.
        content: its body.
        method: the call's method (for errors).
        path: the call's path (for errors).
        as_response: the answer as an `httpx.Response`, asked only on the rare paths that
            need its headers or request (an error message, `success: false`).

    Raises:
        ResponseDecodeError: the body is not a JSON object, or has no `data`.
        APIStatusError: the body says `success: false`.
    """
    if status == 204 or (method == "DELETE" and not content):
        return Envelope(data=None, body={}, status_code=status)
    try:
        body = _json_bytes(content)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        problem: str | None = str(exc)
    else:
        problem = None
    if problem is not None:
        # Raised outside the `except`: the JSON error (whose `doc` is the whole body) must
        # not stay behind as `__context__`.
        response = as_response()
        raise ResponseDecodeError(
            f"{method} {path}: answer {status} is not JSON "
            f"({excerpt(problem, _secrets(response))})",
            status_code=status,
            body=_text(response),
        )
    if type(body) is not dict:
        raise ResponseDecodeError(
            f"{method} {path}: expected a JSON object, got {type(body).__name__}",
            status_code=status,
            body=_text(as_response()),
        )
    if body.get("success") is False:
        raise _status_error(as_response(), body, method=method, path=path)
    if "data" not in body:
        # The disable endpoint's schema puts the object under "LivestreamBase".
        if isinstance(body.get("LivestreamBase"), dict):
            return Envelope(data=body["LivestreamBase"], body=body, status_code=status)
        raise ResponseDecodeError(
            f"{method} {path}: the answer has no 'data'",
            status_code=status,
            body=_text(as_response()),
        )
    return Envelope(data=body["data"], body=body, status_code=status)


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
    request_id = request_id_of(headers)
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


def request_id_of(headers: Mapping[str, str]) -> str | None:
    """The answer's request id: the first of `x-request-id`, `dyte-request-id`, `cf-ray`
    (lower-case names, or a case-insensitive mapping)."""
    return next((headers[h] for h in _REQUEST_ID_HEADERS if h in headers), None)
