"""What the fake remembers of each request it received."""

from __future__ import annotations

from typing import Any

import attrs

from dyte_async.testing._json import loads_bounded
from dyte_async.testing._routes import Resolved, parse_query
from dyte_async.testing._wire import WireRequest

__all__ = ["MAX_LOGGED_JSON_BYTES", "RecordedRequest", "record_cost", "record_of"]

REDACTED = "<redacted>"


@attrs.frozen
class RecordedRequest:
    """One request as `FakeDyte.requests` lists it.

    Attributes:
        method: the HTTP method.
        path: the path without the API root (`/meetings/...`; the full path when outside it).
        route: the matching `"METHOD /template"`, or None.
        query: the query parameters (the last value wins when one repeats).
        json: the parsed JSON body (None when there was none, it was not JSON, or it was
            larger than 64 KiB).
        headers: the headers, lower-case names; `authorization` is `"<redacted>"`.
        status: the status answered (None while in flight, or when the connection was dropped).
        client: `"in-process"` or the peer's address.
        at: the clock's reading when it arrived.
        org_id: the organization its credentials named (the Basic user on `/v2`, the
            `{app_id}` on RealtimeKit paths, `""` on unauthenticated paths); None when
            they were refused or the path is outside the API.
    """

    method: str
    path: str
    route: str | None
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    status: int | None
    client: str
    at: float
    org_id: str | None = None


MAX_LOGGED_JSON_BYTES = 64 * 1024
"""Bodies larger than this are logged with `json=None` (their size is in the headers)."""

_RECORD_OVERHEAD = 512
_JSON_ITEM_COST = 64


def _json_or_none(body: bytes) -> Any:
    if not body.strip() or len(body) > MAX_LOGGED_JSON_BYTES:
        return None
    try:
        return loads_bounded(body)
    except ValueError:
        return None


def record_cost(request: WireRequest) -> int:
    """Return an upper estimate of the bytes the log entry of `request` holds.

    Every JSON array, object and item costs some tens of bytes once parsed, so the body's
    brackets and commas are counted as well as its length.
    """
    cost = _RECORD_OVERHEAD + sum(len(k) + len(v) for k, v in request.headers)
    cost += len(request.path) + len(request.query_string)
    body = request.body
    if body and len(body) <= MAX_LOGGED_JSON_BYTES:
        items = body.count(b",") + body.count(b"[") + body.count(b"{") + body.count(b":")
        cost += len(body) + _JSON_ITEM_COST * items
    return cost


def record_of(
    request: WireRequest, resolved: Resolved, *, at: float, org_id: str | None = None
) -> RecordedRequest:
    """Return the log entry of `request` (status still None).

    Args:
        request: the request.
        resolved: where its path leads.
        at: the clock's reading.
        org_id: the organization its credentials named (None: refused or none).

    Returns:
        The entry.
    """
    headers: dict[str, str] = {}
    for name, value in request.headers:
        value = REDACTED if name == "authorization" else value
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return RecordedRequest(
        method=request.method,
        path=resolved.path,
        route=resolved.key,
        query=parse_query(request.query_string),
        json=_json_or_none(request.body),
        headers=headers,
        status=None,
        client=request.client,
        at=at,
        org_id=org_id,
    )
