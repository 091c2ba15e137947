"""Which SDK operation a request is, by its method and path, and a URL safe to record.

The telemetry names a call's span after the SDK method that sends it
(`dyte.livestreams.start`) and its attempts after the API's path template
(`POST /v2/meetings/{meeting_id}/livestreams`), so span names and metric attributes stay
few (low cardinality) whatever the ids. `OPERATIONS` is the table, one row per endpoint of
the API spec (`tests/unit/test_telemetry_routes.py` checks it against the fake's route
table and the resource classes). Imports nothing of opentelemetry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from dyte_async._redact import is_secret_name

__all__ = ["OPERATIONS", "Route", "match", "url_for_telemetry"]

#: `(method, path template)` -> the SDK method that sends it (`resource.method`).
OPERATIONS: Final[Mapping[tuple[str, str], str]] = {
    ("POST", "/meetings/{meeting_id}/livestreams"): "livestreams.start",
    ("GET", "/meetings/{meeting_id}/active-livestream"): "livestreams.get_active",
    ("POST", "/meetings/{meeting_id}/active-livestream/stop"): "livestreams.stop",
    ("GET", "/meetings/{meeting_id}/livestream"): "livestreams.list_for_meeting",
    ("GET", "/livestreams"): "livestreams.list",
    ("POST", "/livestreams"): "livestreams.create",
    ("GET", "/livestreams/{livestream_id}"): "livestreams.get",
    ("GET", "/livestreams/{livestream_id}/active-livestream-session"): (
        "livestreams.get_active_session"
    ),
    ("GET", "/livestreams/sessions/{livestream_session_id}"): "livestreams.get_session",
    ("GET", "/sessions/{session_id}/livestream-sessions"): "livestreams.list_for_session",
    ("POST", "/livestreams/{livestream_id}/reset-stream-key"): "livestreams.reset_stream_key",
    ("PUT", "/livestreams/{livestream_id}/enable"): "livestreams.enable",
    ("PUT", "/livestreams/{livestream_id}/disable"): "livestreams.disable",
    ("GET", "/analytics/livestreams/overall"): "livestreams.analytics_overall",
    ("GET", "/analytics/livestreams/daywise"): "livestreams.analytics_daywise",
    ("POST", "/meetings"): "meetings.create",
    ("GET", "/meetings"): "meetings.list",
    ("GET", "/meetings/{meeting_id}"): "meetings.get",
    ("PATCH", "/meetings/{meeting_id}"): "meetings.update",
    ("PUT", "/meetings/{meeting_id}"): "meetings.replace",
    ("POST", "/meetings/{meeting_id}/participants"): "participants.add",
    ("GET", "/meetings/{meeting_id}/participants"): "participants.list",
    ("GET", "/meetings/{meeting_id}/participants/{participant_id}"): "participants.get",
    ("PATCH", "/meetings/{meeting_id}/participants/{participant_id}"): "participants.update",
    ("DELETE", "/meetings/{meeting_id}/participants/{participant_id}"): "participants.delete",
    ("POST", "/meetings/{meeting_id}/participants/{participant_id}/token"): (
        "participants.refresh_token"
    ),
    ("GET", "/meetings/{meeting_id}/active-session"): "active_sessions.get",
    ("POST", "/meetings/{meeting_id}/active-session/kick"): "active_sessions.kick",
    ("POST", "/meetings/{meeting_id}/active-session/kick-all"): "active_sessions.kick_all",
    ("POST", "/meetings/{meeting_id}/active-session/mute"): "active_sessions.mute",
    ("POST", "/meetings/{meeting_id}/active-session/mute-all"): "active_sessions.mute_all",
    ("POST", "/presets"): "presets.create",
    ("GET", "/presets"): "presets.list",
    ("GET", "/presets/{preset_id}"): "presets.get",
    ("PATCH", "/presets/{preset_id}"): "presets.update",
    ("DELETE", "/presets/{preset_id}"): "presets.delete",
}


class Route:
    """A request's endpoint: the SDK operation, the path template, the ids in the path."""

    __slots__ = ("ids", "operation", "template")

    def __init__(self, operation: str, template: str, ids: tuple[tuple[str, str], ...]) -> None:
        self.operation = operation
        self.template = template
        #: `(name, value)` of each id in the path (`("meeting_id", "m1")`); ids, never secrets.
        self.ids = ids


def _index() -> dict[tuple[str, int], list[tuple[tuple[str, ...], str, str]]]:
    """The table by method and segment count, the templates with more literals first (so
    `/livestreams/sessions/{id}` wins over `/livestreams/{livestream_id}/...`)."""
    index: dict[tuple[str, int], list[tuple[tuple[str, ...], str, str]]] = {}
    for (method, template), operation in OPERATIONS.items():
        segments = tuple(template.strip("/").split("/"))
        index.setdefault((method, len(segments)), []).append((segments, template, operation))
    for rows in index.values():
        rows.sort(key=lambda row: -sum(not s.startswith("{") for s in row[0]))
    return index


_INDEX: Final = _index()


def match(method: str, path: str) -> Route | None:
    """The endpoint of `method path` (the path below the base URL, without a query), or
    None for a path no row fits."""
    segments = path.strip("/").split("/")
    for pattern, template, operation in _INDEX.get((method, len(segments)), ()):
        ids: list[tuple[str, str]] = []
        for want, got in zip(pattern, segments, strict=True):
            if want.startswith("{"):
                if not got:
                    break
                ids.append((want[1:-1], got))
            elif want != got:
                break
        else:
            return Route(operation, template, tuple(ids))
    return None


#: What a secret's value becomes in a recorded URL (the semantic conventions' word).
REDACTED: Final = "REDACTED"


def url_for_telemetry(url: str) -> str:
    """`url` as `url.full` may record it: no user info, and the value of every query
    parameter named like a secret (`token`, `api_key`, `signature`, ...) replaced by
    ``REDACTED``."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(is_secret_name(name) for name, _ in pairs):
            query = urlencode([(k, REDACTED if is_secret_name(k) else v) for k, v in pairs])
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
