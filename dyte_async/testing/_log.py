"""What the fake remembers of each request it received."""

from __future__ import annotations

import json
from typing import Any

import attrs

from dyte_async.testing._routes import Resolved, parse_query
from dyte_async.testing._wire import WireRequest

__all__ = ["RecordedRequest", "record_of"]

REDACTED = "<redacted>"


@attrs.frozen
class RecordedRequest:
    """One request as `FakeDyte.requests` lists it.

    Attributes:
        method: the HTTP method.
        path: the path without the API root (`/meetings/...`; the full path when outside it).
        route: the matching `"METHOD /template"`, or None.
        query: the query parameters (the last value wins when one repeats).
        json: the parsed JSON body (None when there was none or it was not JSON).
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


def _json_or_none(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


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
