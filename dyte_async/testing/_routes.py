"""The route table, path matching, authentication and dispatch: a request in, a response out.

Two API roots are served side by side: Dyte v2 (`/v2/...`, Basic auth) and Cloudflare
RealtimeKit (`/client/v4/accounts/{account_id}/realtime/kit/{app_id}/...`, Bearer auth).
Routes are named `"METHOD /template"` with the spec's own path templates.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

import attrs

from dyte_async.testing import _api_livestreams as ls
from dyte_async.testing import _api_meetings as mt
from dyte_async.testing import _api_presets as pr
from dyte_async.testing._auth import Api, Credentials
from dyte_async.testing._conform import conform_response
from dyte_async.testing._context import Ctx, Handler
from dyte_async.testing._json import MAX_DEPTH, TooDeep, loads_bounded
from dyte_async.testing._params import MISSING, bad_request
from dyte_async.testing._schema import first_problem
from dyte_async.testing._spec import patched_spec, request_schema
from dyte_async.testing._state import FakeState
from dyte_async.testing._wire import (
    ApiError,
    WireRequest,
    WireResponse,
    error_response,
    json_response,
)

__all__ = [
    "ROUTES",
    "ROUTE_KEYS",
    "UNAUTHORIZED",
    "WELL_KNOWN_ROUTE",
    "Credentials",
    "Resolved",
    "Route",
    "dispatch",
    "parse_query",
    "resolve",
]


@attrs.frozen
class Route:
    """One endpoint: method, the spec's path template, and its handler."""

    method: str
    template: str
    handler: Handler
    segments: tuple[str, ...] = attrs.field(init=False)

    @segments.default
    def _segments(self) -> tuple[str, ...]:
        return tuple(self.template.strip("/").split("/"))

    @property
    def key(self) -> str:
        """`"METHOD /template"`, the name faults and counters use."""
        return f"{self.method} {self.template}"

    @property
    def literal_count(self) -> int:
        """How many segments are fixed text (more wins when two templates match)."""
        return sum(not s.startswith("{") for s in self.segments)

    def match(self, segments: tuple[str, ...]) -> dict[str, str] | None:
        """Return the path parameters when `segments` fit this template, else None."""
        if len(segments) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for pattern, value in zip(self.segments, segments, strict=True):
            if pattern.startswith("{"):
                if not value:
                    return None
                params[pattern[1:-1]] = value
            elif pattern != value:
                return None
        return params


def _well_known(ctx: Ctx) -> WireResponse:
    # RealtimeKit's documented shape (Dyte's is undocumented); `public_key_from_body`
    # reads it, as it reads the other known shapes.
    pem = ctx.state.webhook_keys.served_pem()
    return json_response(200, {"success": True, "data": {"publicKey": pem}, "message": ""})


ROUTES: tuple[Route, ...] = (
    # livestreams
    Route("POST", "/meetings/{meeting_id}/livestreams", ls.start_for_meeting),
    Route("GET", "/meetings/{meeting_id}/active-livestream", ls.get_active_for_meeting),
    Route("POST", "/meetings/{meeting_id}/active-livestream/stop", ls.stop_for_meeting),
    Route("GET", "/meetings/{meeting_id}/livestream", ls.list_for_meeting),
    Route("GET", "/livestreams", ls.list_all),
    Route("POST", "/livestreams", ls.create_independent),
    Route("GET", "/livestreams/{livestream_id}", ls.get_livestream),
    Route("GET", "/livestreams/{livestream_id}/active-livestream-session", ls.get_active_session),
    Route("GET", "/livestreams/sessions/{livestream-session-id}", ls.get_session),
    Route("GET", "/sessions/{session_id}/livestream-sessions", ls.list_for_meeting_session),
    Route("POST", "/livestreams/{livestream_id}/reset-stream-key", ls.reset_stream_key),
    Route("PUT", "/livestreams/{livestream_id}/enable", ls.enable),
    Route("PUT", "/livestreams/{livestream_id}/disable", ls.disable),
    Route("GET", "/analytics/livestreams/overall", ls.analytics_overall),
    Route("GET", "/analytics/livestreams/daywise", ls.analytics_daywise),
    # meetings
    Route("POST", "/meetings", mt.create_meeting),
    Route("GET", "/meetings", mt.list_meetings),
    Route("GET", "/meetings/{meeting_id}", mt.get_meeting),
    Route("PATCH", "/meetings/{meeting_id}", mt.update_meeting),
    Route("PUT", "/meetings/{meeting_id}", mt.replace_meeting),
    # participants
    Route("POST", "/meetings/{meeting_id}/participants", mt.add_participant),
    Route("GET", "/meetings/{meeting_id}/participants", mt.list_participants),
    Route("GET", "/meetings/{meeting_id}/participants/{participant_id}", mt.get_participant),
    Route("PATCH", "/meetings/{meeting_id}/participants/{participant_id}", mt.update_participant),
    Route("DELETE", "/meetings/{meeting_id}/participants/{participant_id}", mt.delete_participant),
    Route("POST", "/meetings/{meeting_id}/participants/{participant_id}/token", mt.refresh_token),
    # active session
    Route("GET", "/meetings/{meeting_id}/active-session", mt.active_session),
    Route("POST", "/meetings/{meeting_id}/active-session/kick", mt.kick),
    Route("POST", "/meetings/{meeting_id}/active-session/kick-all", mt.kick_all),
    Route("POST", "/meetings/{meeting_id}/active-session/mute", mt.mute),
    Route("POST", "/meetings/{meeting_id}/active-session/mute-all", mt.mute_all),
    # presets
    Route("POST", "/presets", pr.create_preset),
    Route("GET", "/presets", pr.list_presets),
    Route("GET", "/presets/{preset_id}", pr.get_preset),
    Route("PATCH", "/presets/{preset_id}", pr.update_preset),
    Route("DELETE", "/presets/{preset_id}", pr.delete_preset),
)
"""Every API endpoint, relative to the API root."""

WELL_KNOWN_ROUTE = Route("GET", "/.well-known/webhooks.json", _well_known)
"""Served at the host root, without authentication."""

ROUTE_KEYS: frozenset[str] = frozenset(r.key for r in (*ROUTES, WELL_KNOWN_ROUTE))
"""Every valid `route=` value of the fault methods."""

_REALTIMEKIT = re.compile(r"/client/v4/accounts/[^/]+/realtime/kit/[^/]+(?P<rest>/.*)?")


@attrs.frozen
class Resolved:
    """Where a request path leads.

    Attributes:
        api: which root it is under (None: neither).
        path: the path relative to that root (the full path when `api` is None or root).
        route: the matching route for the method (None when none matches).
        params: the path parameters of `route`.
        allowed: the methods the path accepts (for a 405 when `route` is None).
    """

    api: Api | None
    path: str
    route: Route | None = None
    params: dict[str, str] = attrs.Factory(dict)
    allowed: tuple[str, ...] = ()

    @property
    def key(self) -> str | None:
        """The route's `"METHOD /template"`, or None."""
        return None if self.route is None else self.route.key


def _split(path: str) -> tuple[Api | None, str]:
    if path == WELL_KNOWN_ROUTE.template:
        return "root", path
    if path == "/v2" or path.startswith("/v2/"):
        return "v2", path[3:] or "/"
    found = _REALTIMEKIT.fullmatch(path)
    if found is not None:
        return "realtimekit", found.group("rest") or "/"
    return None, path


def resolve(method: str, path: str) -> Resolved:
    """Find the route of `method` + `path` (a full URL path, e.g. `/v2/livestreams`).

    Returns:
        The resolution (see `Resolved`).
    """
    api, relative = _split(path)
    if api is None:
        return Resolved(api=None, path=path)
    routes = (WELL_KNOWN_ROUTE,) if api == "root" else ROUTES
    segments = tuple(relative.strip("/").split("/"))
    candidates = []
    for route in routes:
        params = route.match(segments)
        if params is not None:
            candidates.append((route, params))
    for_method = [c for c in candidates if c[0].method == method]
    if for_method:
        route, params = max(for_method, key=lambda c: c[0].literal_count)
        return Resolved(api=api, path=relative, route=route, params=params)
    allowed = tuple(sorted({route.method for route, _ in candidates}))
    return Resolved(api=api, path=relative, allowed=allowed)


UNAUTHORIZED = json_response(401, {"message": "Unauthorized"})


def parse_query(query_string: str) -> dict[str, str]:
    """Return the query parameters (the last value wins when one repeats)."""
    return dict(parse_qsl(query_string, keep_blank_values=True))


def _parse_body(body: bytes) -> object:
    if not body.strip():
        return MISSING
    try:
        return loads_bounded(body)
    except TooDeep:
        raise bad_request(f"request body nests deeper than {MAX_DEPTH} levels") from None
    except ValueError:
        raise bad_request("request body is not valid JSON") from None


OPEN_BODIES = frozenset({"POST /presets", "PATCH /presets/{preset_id}"})
"""Bodies stored as sent: unknown keys are kept (and round-trip), known ones are checked."""


def check_body(route: str, body: object) -> None:
    """Check a request body against the spec's request schema of `route` (nested too).

    Raises:
        ApiError: 400 `BAD_REQUEST: <the first problem>` (see `_schema`).
    """
    if body is MISSING:
        return
    schema = request_schema(route)
    if schema is None:
        return
    problem = first_problem(patched_spec(), body, schema, open_=route in OPEN_BODIES)
    if problem is not None:
        raise bad_request(problem)


def dispatch(
    state: FakeState,
    credentials: Credentials,
    request: WireRequest,
    resolved: Resolved,
    *,
    default_per_page: int,
    max_per_page: int,
) -> WireResponse:
    """Answer one request: authentication, 404/405, body parsing, then the handler.

    Returns:
        The response; a handler's `ApiError` becomes the error envelope, and an unexpected
        exception a 500 whose message names it.
    """
    if resolved.api is None:
        return error_response(404, f"Route {request.method} {request.path} not found")
    if not credentials.accepts(resolved.api, request.header("authorization"), request.path):
        return UNAUTHORIZED
    if resolved.route is None:
        if resolved.allowed:
            return error_response(
                405,
                f"Method {request.method} not allowed on {resolved.path}",
                headers=(("allow", ", ".join(resolved.allowed)),),
            )
        return error_response(404, f"Route {request.method} {resolved.path} not found")
    try:
        body = _parse_body(request.body)
        check_body(resolved.route.key, body)
        ctx = Ctx(
            state=state,
            params=resolved.params,
            query=parse_query(request.query_string),
            body=body,
            default_per_page=default_per_page,
            max_per_page=max_per_page,
        )
        return conform_response(resolved.route.key, resolved.route.handler(ctx))
    except ApiError as error:
        return error.response()
    except Exception as error:  # a bug in the fake: say so instead of hanging the client
        return error_response(500, f"FakeDyte internal error: {type(error).__name__}: {error}")
