"""`dyte.presets`: what participants see and may do, and the livestream host/viewer pair."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any, Final

import anyio
import attrs

from dyte_async._convert import list_items, structure
from dyte_async._pagination import AsyncPaginator
from dyte_async._pipeline import Pipeline, logger
from dyte_async._response import Envelope
from dyte_async.errors import (
    APIStatusError,
    APITimeoutError,
    BadRequestError,
    ConflictError,
    InvalidArgumentError,
    NotFoundError,
    UnprocessableEntityError,
)
from dyte_async.models import JsonObject, Page, Preset, PresetSummary
from dyte_async.models._base import _OpenStrEnum
from dyte_async.resources._base import Resource, page_from, segment, without_none

__all__ = ["Presets", "livestream_host_body", "livestream_viewer_body"]

#: `per_page` of the name look-ups behind `get_or_create` (the fewest round trips).
_LOOKUP_PER_PAGE: Final = 100
#: How often `get_or_create` looks up and creates again after losing a race.
_CONFLICT_ROUNDS: Final = 3
# A 400/422 that means "that name is taken" (servers word it differently).
_NAME_TAKEN = re.compile(r"already|duplicate|unique|taken|in use", re.IGNORECASE)


# -- decoding ---------------------------------------------------------------------------------


def _summaries(data: Any) -> list[PresetSummary]:
    return [structure(item, PresetSummary) for item in list_items(data, "presets")]


# -- request bodies ---------------------------------------------------------------------------


def _to_json(value: Any) -> Any:
    if isinstance(value, JsonObject):
        return value.to_dict()
    if isinstance(value, _OpenStrEnum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    return value


def _merge(base: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `patch` merged in: objects key by key, anything else replaced."""
    merged = dict(base)
    for key, value in patch.items():
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            merged[key] = _merge(old, value)
        else:
            merged[key] = value
    return merged


def _body(body: Preset | Mapping[str, Any] | None, fields: Mapping[str, Any]) -> dict[str, Any]:
    if body is None:
        base: dict[str, Any] = {}
    elif isinstance(body, Preset):
        base = body.to_body()
    elif isinstance(body, Mapping):
        base = _to_json(body)
    else:
        raise InvalidArgumentError(f"body must be a Preset or a mapping, got {type(body).__name__}")
    return _merge(base, _to_json(without_none(fields)))


def _check_name(name: object, label: str = "name") -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgumentError(f"{label} is required and must be a non-empty string")
    return name


_UI: Final[dict[str, Any]] = {
    "design_tokens": {
        "border_radius": "rounded",
        "border_width": "thin",
        "spacing_base": 4,
        "theme": "dark",
        "colors": {
            "brand": {
                "300": "#844d1c",
                "400": "#9d5b22",
                "500": "#b56927",
                "600": "#d37c30",
                "700": "#d9904f",
            },
            "background": {
                "600": "#222222",
                "700": "#1f1f1f",
                "800": "#1b1b1b",
                "900": "#181818",
                "1000": "#141414",
            },
            "danger": "#FF2D2D",
            "text": "#EEEEEE",
            "text_on_brand": "#EEEEEE",
            "success": "#62A504",
            "video_bg": "#191919",
            "warning": "#FFCD07",
        },
        "logo": "",
    }
}


def _config(*, max_streams: int) -> dict[str, Any]:
    return {
        "view_type": "WEBINAR",
        "max_video_streams": {"mobile": min(max_streams, 6), "desktop": max_streams},
        "max_screenshare_count": 1,
        "media": {
            "audio": {"enable_stereo": False, "enable_high_bitrate": True},
            "video": {"quality": "hd", "frame_rate": 30},
            "screenshare": {"quality": "hd", "frame_rate": 5},
        },
    }


def _produce(access: str) -> dict[str, Any]:
    return {kind: {"can_produce": access} for kind in ("video", "audio", "screenshare")}


def livestream_host_body(name: str = "livestream_host") -> dict[str, Any]:
    """The body `ensure_livestream_presets` creates a host preset with.

    A complete preset by Dyte v2's `Preset` schema (every required key present). The host
    is on stage and runs the show: `can_livestream` (start and stop the livestream),
    `can_accept_production_requests` (accept requests to join the stage),
    `accept_waiting_requests`, `kick_participant`, `disable_participant_audio`/`_video`/
    `_screensharing` (mute others), `pin_participant`, `can_spotlight`, and may send video,
    audio and screen share. `view_type` is `WEBINAR`: the v2 spec's enum is
    `GROUP_CALL|WEBINAR|AUDIO_ROOM` (RealtimeKit's `LIVESTREAM` is not in it), and a webinar
    is the stage-and-audience layout a livestream is made from.

    Args:
        name: the preset's name.

    Returns:
        A new dict (change it freely, e.g. before `dyte.presets.get_or_create`).
    """
    return {
        "name": name,
        "config": _config(max_streams=12),
        "permissions": {
            "accept_waiting_requests": True,
            "can_accept_production_requests": True,
            "can_edit_display_name": True,
            "can_spotlight": True,
            "is_recorder": False,
            "recorder_type": "NONE",
            "disable_participant_audio": True,
            "disable_participant_screensharing": True,
            "disable_participant_video": True,
            "kick_participant": True,
            "pin_participant": True,
            "can_record": False,
            "can_livestream": True,
            "waiting_room_type": "SKIP",
            "plugins": {
                "can_close": True,
                "can_start": True,
                "can_edit_config": True,
                "config": {"access_control": "FULL_ACCESS", "handles_view_only": False},
            },
            "connected_meetings": {
                "can_alter_connected_meetings": False,
                "can_switch_connected_meetings": False,
                "can_switch_to_parent_meeting": False,
            },
            "polls": {"can_create": True, "can_vote": True, "can_view": True},
            "media": _produce("ALLOWED"),
            "chat": {
                "public": {"can_send": True, "text": True, "files": True},
                "private": {"can_send": True, "can_receive": True, "text": True, "files": True},
            },
            "hidden_participant": False,
            "show_participant_list": True,
            "can_change_participant_permissions": True,
        },
        "ui": copy.deepcopy(_UI),
    }


def livestream_viewer_body(name: str = "livestream_viewer") -> dict[str, Any]:
    """The body `ensure_livestream_presets` creates a viewer preset with.

    A viewer watches: it may not livestream, send media (`NOT_ALLOWED`: not even a request
    to join the stage), accept stage or waiting-room requests, or moderate anyone. It may
    chat in public, see and vote in polls. It is not in the participant list and sees no one
    else's (`show_participant_list` false). `view_type` is `WEBINAR` (see
    `livestream_host_body`).

    Args:
        name: the preset's name.

    Returns:
        A new dict.
    """
    return {
        "name": name,
        "config": _config(max_streams=6),
        "permissions": {
            "accept_waiting_requests": False,
            "can_accept_production_requests": False,
            "can_edit_display_name": False,
            "can_spotlight": False,
            "is_recorder": False,
            "recorder_type": "NONE",
            "disable_participant_audio": False,
            "disable_participant_screensharing": False,
            "disable_participant_video": False,
            "kick_participant": False,
            "pin_participant": False,
            "can_record": False,
            "can_livestream": False,
            "waiting_room_type": "SKIP",
            "plugins": {
                "can_close": False,
                "can_start": False,
                "can_edit_config": False,
                "config": {"access_control": "VIEW_ONLY", "handles_view_only": True},
            },
            "connected_meetings": {
                "can_alter_connected_meetings": False,
                "can_switch_connected_meetings": False,
                "can_switch_to_parent_meeting": False,
            },
            "polls": {"can_create": False, "can_vote": True, "can_view": True},
            "media": _produce("NOT_ALLOWED"),
            "chat": {
                "public": {"can_send": True, "text": True, "files": False},
                "private": {"can_send": False, "can_receive": False, "text": False, "files": False},
            },
            "hidden_participant": False,
            "show_participant_list": False,
            "can_change_participant_permissions": False,
        },
        "ui": copy.deepcopy(_UI),
    }


def _is_name_taken(exc: APIStatusError) -> bool:
    if isinstance(exc, ConflictError):
        return True
    return isinstance(exc, (BadRequestError, UnprocessableEntityError)) and bool(
        _NAME_TAKEN.search(exc.message)
    )


def _age(summary: PresetSummary) -> tuple[bool, float, str]:
    """Sort key: oldest first, then the smallest id (presets without a date last)."""
    created = summary.created_at
    return (created is None, 0.0 if created is None else created.timestamp(), summary.id)


@attrs.define
class _Flight:
    """Callers of `get_or_create` for one name in this client: one at a time, sharing results."""

    lock: anyio.Lock = attrs.field(factory=anyio.Lock)
    generation: int = 0
    result: Preset | None = None


# -- the resource -----------------------------------------------------------------------------


class Presets(Resource):
    """Preset endpoints (`dyte.presets`). Every method takes a per-call `timeout=`.

    Bodies use the API's own keys (`name`, `config`, `permissions`, `ui`); values may be
    plain dicts or the typed objects of `dyte_async.models`, and a `Preset` may be
    passed whole (its `to_body()` is sent). A field passed as None is not sent.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        super().__init__(pipeline)
        self._flights: dict[str, _Flight] = {}

    async def create(
        self,
        body: Preset | Mapping[str, Any] | None = None,
        /,
        *,
        timeout: float | None = None,
        **fields: Any,
    ) -> Preset:
        """Create a preset (`POST /presets`).

        Never creates two: after an ambiguous failure (read timeout, dropped connection,
        500/502/504) the client looks the name up and returns the preset it finds; only when
        there is none does it send the POST again.

        Args:
            body: a whole preset to start from (e.g. a copy of another one); optional.
            timeout: seconds for the whole call.
            **fields: `name=` (required, here or in `body`), `config=`, `permissions=`,
                `ui=`, ...; merged over `body` (objects key by key).

        Returns:
            The new `Preset`.

        Raises:
            InvalidArgumentError: no `name` (nothing sent).
            ConflictError: a preset of that name exists (the server's refusal).
        """
        data = _body(body, fields)
        name = _check_name(data.get("name"))
        deadline = self._pipeline.deadline(timeout)
        return await self._create(name, data, deadline)

    async def get(self, preset_id: str, *, timeout: float | None = None) -> Preset:
        """One preset, whole (`GET /presets/{preset_id}`).

        Args:
            preset_id: the preset.
            timeout: seconds for the whole call.

        Returns:
            The `Preset`, every key of its JSON kept in `raw`.

        Raises:
            InvalidArgumentError: a bad `preset_id` (nothing sent).
            NotFoundError: no preset has this id.
        """
        envelope = await self._pipeline.send("GET", self._path(preset_id), timeout=timeout)
        return structure(envelope.data, Preset)

    def list(
        self, *, per_page: int | None = None, timeout: float | None = None
    ) -> AsyncPaginator[PresetSummary]:
        """The organization's presets (`GET /presets`), lazily paged.

        Args:
            per_page: page size (the server's default when None).
            timeout: seconds for each page's call.

        Returns:
            An `AsyncPaginator` of `PresetSummary`: the API lists `id`, `name` and
            timestamps only; `get(summary.id)` gives the rest.

        Raises:
            InvalidArgumentError: `per_page` is not a positive integer (nothing sent).
        """
        return self._paginate("/presets", _summaries, per_page=per_page, timeout=timeout)

    async def update(
        self,
        preset_id: str,
        body: Preset | Mapping[str, Any] | None = None,
        /,
        *,
        timeout: float | None = None,
        **fields: Any,
    ) -> Preset:
        """Change a preset (`PATCH /presets/{preset_id}`).

        For a read-modify-write pass the changed `Preset` itself: its whole JSON is sent,
        keys this library does not model included, so nothing is lost.

        Args:
            preset_id: the preset.
            body: a `Preset` (sent as `to_body()`) or a mapping; optional.
            timeout: seconds for the whole call.
            **fields: fields to change, merged over `body` (objects key by key).

        Returns:
            The preset as the server now has it.

        Raises:
            InvalidArgumentError: nothing to change, or a bad `preset_id` (nothing sent).
            NotFoundError: no preset has this id.
        """
        path = self._path(preset_id)
        data = _body(body, fields)
        if not data:
            raise InvalidArgumentError("update needs a body or at least one field to change")
        envelope = await self._pipeline.send("PATCH", path, json=data, timeout=timeout)
        return structure(envelope.data, Preset)

    async def delete(self, preset_id: str, *, timeout: float | None = None) -> None:
        """Delete a preset (`DELETE /presets/{preset_id}`).

        Args:
            preset_id: the preset.
            timeout: seconds for the whole call.

        Raises:
            InvalidArgumentError: a bad `preset_id` (nothing sent).
            NotFoundError: no preset has this id.
        """
        await self._pipeline.send("DELETE", self._path(preset_id), timeout=timeout)

    async def get_or_create(
        self,
        name: str,
        body: Preset | Mapping[str, Any] | None = None,
        /,
        *,
        timeout: float | None = None,
        **fields: Any,
    ) -> Preset:
        """The preset called `name`, created from `body`/`fields` when there is none.

        Safe when many callers race. In this client, callers for one name take turns and
        those who waited get the result of the call they waited for, so 20 concurrent
        callers send one POST. Across processes, a create that loses the race (409, or a
        400/422 saying the name exists) is answered by reading the winner. If several presets
        already share the name, the oldest (then the smallest id) is returned, so every
        process picks the same one. An existing preset is returned as it is, never changed.

        Args:
            name: the preset's name (wins over a `name` in `body`/`fields`).
            body: the preset to create when missing (mapping or `Preset`); optional.
            timeout: seconds for the whole call, waiting for other callers included.
            **fields: more fields for the preset to create, merged over `body`.

        Returns:
            The whole `Preset`.

        Raises:
            InvalidArgumentError: an empty `name` (nothing sent).
            APITimeoutError: the call's time ran out.
        """
        _check_name(name)
        data = _merge(_body(body, fields), {"name": name})
        return await self._ensure(name, data, self._pipeline.deadline(timeout))

    async def ensure_livestream_presets(
        self,
        *,
        host: str = "livestream_host",
        viewer: str = "livestream_viewer",
        timeout: float | None = None,
    ) -> tuple[Preset, Preset]:
        """The host and viewer presets of a livestream app, created when missing.

        Get-or-create by name (see `get_or_create`): idempotent, and safe when many
        processes run it at once. Missing presets are created from `livestream_host_body`
        and `livestream_viewer_body`; existing ones are returned unchanged.

        Args:
            host: name of the host preset (may livestream, accept stage requests, moderate).
            viewer: name of the viewer preset (watches and chats).
            timeout: seconds for the whole call.

        Returns:
            `(host_preset, viewer_preset)`.

        Raises:
            InvalidArgumentError: an empty name, or the same name for both (nothing sent).
            APITimeoutError: the call's time ran out.
        """
        _check_name(host, "host")
        _check_name(viewer, "viewer")
        if host == viewer:
            raise InvalidArgumentError("host and viewer presets need different names")
        deadline = self._pipeline.deadline(timeout)
        host_preset = await self._ensure(host, livestream_host_body(host), deadline)
        viewer_preset = await self._ensure(viewer, livestream_viewer_body(viewer), deadline)
        return host_preset, viewer_preset

    # -- get-or-create ------------------------------------------------------------------------

    async def _ensure(self, name: str, data: dict[str, Any], deadline: float) -> Preset:
        flight = self._flights.get(name)
        if flight is None:
            flight = self._flights[name] = _Flight()
        seen = flight.generation
        acquired = False
        with anyio.move_on_after(max(0.0, deadline - self._pipeline.clock.now())):
            await flight.lock.acquire()
            acquired = True
        if not acquired:
            raise APITimeoutError(f"preset {name!r}: timed out waiting for another caller")
        try:
            if flight.generation != seen and flight.result is not None:
                return flight.result  # resolved by the caller we waited for
            result = await self._resolve(name, data, deadline)
            flight.result = result
            flight.generation += 1
            return result
        finally:
            flight.lock.release()

    async def _resolve(self, name: str, data: dict[str, Any], deadline: float) -> Preset:
        last: APIStatusError | None = None
        clock = self._pipeline.clock
        for round_no in range(_CONFLICT_ROUNDS):
            if round_no >= 2:  # the winner was not readable at once: give it a moment
                pause = self._pipeline.policy.backoff(round_no - 1)
                await clock.sleep(max(0.0, min(pause, deadline - clock.now())))
            found = await self._find(name, deadline)
            if found is not None:
                return found
            try:
                return await self._create(name, data, deadline)
            except APIStatusError as exc:
                if not _is_name_taken(exc):
                    raise
                logger.info("create preset %r lost a race (%s); reading the winner", name, exc)
                last = exc
        assert last is not None
        raise last

    async def _create(self, name: str, data: dict[str, Any], deadline: float) -> Preset:
        async def recover(deadline: float) -> Envelope | None:
            return await self._find_envelope(name, deadline)

        envelope = await self._pipeline.send(
            "POST", "/presets", json=data, deadline=deadline, idempotent=False, recover=recover
        )
        return structure(envelope.data, Preset)

    async def _find(self, name: str, deadline: float) -> Preset | None:
        envelope = await self._find_envelope(name, deadline)
        return None if envelope is None else structure(envelope.data, Preset)

    async def _find_envelope(self, name: str, deadline: float) -> Envelope | None:
        """`GET /presets/{id}` of the oldest preset called `name`, or None when there is none."""
        matches = [s async for s in self._walk(deadline) if s.name == name]
        matches.sort(key=_age)
        for summary in matches:
            try:
                return await self._pipeline.send("GET", self._path(summary.id), deadline=deadline)
            except NotFoundError:
                continue  # deleted since it was listed
        return None

    def _walk(self, deadline: float) -> AsyncPaginator[PresetSummary]:
        pipeline = self._pipeline

        async def fetch(page_no: int) -> Page[PresetSummary]:
            query = {"page_no": page_no, "per_page": _LOOKUP_PER_PAGE}
            envelope = await pipeline.send("GET", "/presets", params=query, deadline=deadline)
            return page_from(envelope, _summaries(envelope.data), page_no)

        # per_page=None: a server that clamps the page size must not end the walk early.
        return AsyncPaginator(fetch, per_page=None)

    @staticmethod
    def _path(preset_id: str) -> str:
        return f"/presets/{segment(preset_id, 'preset_id')}"
