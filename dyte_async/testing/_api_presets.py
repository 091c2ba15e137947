"""Handlers of `/presets`: the body is stored as sent, so unknown keys round-trip."""

from __future__ import annotations

import copy
from typing import Any

from dyte_async.testing._context import Ctx, ok, paged
from dyte_async.testing._params import object_body, paginate, required_str
from dyte_async.testing._render import preset_json, preset_list_item
from dyte_async.testing._state import Preset
from dyte_async.testing._wire import ApiError, WireResponse

__all__ = [
    "create_preset",
    "deep_merge",
    "delete_preset",
    "get_preset",
    "list_presets",
    "update_preset",
]

_SERVER_KEYS = ("id", "created_at", "updated_at")


def deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Return `base` with `patch` merged in: objects merge key by key, anything else replaces."""
    merged = dict(base)
    for key, value in patch.items():
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            merged[key] = deep_merge(old, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _client_fields(body: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in body.items() if k not in _SERVER_KEYS}


def _check_unique(ctx: Ctx, name: str, *, except_id: str | None = None) -> None:
    for preset in ctx.state.presets.values():
        if preset.id != except_id and preset.body.get("name") == name:
            raise ApiError(409, f"Preset with name {name} already exists")


def _find(ctx: Ctx) -> Preset:
    preset_id = ctx.params["preset_id"]
    preset = ctx.state.presets.get(preset_id)
    if preset is None:
        raise ApiError(404, f"No preset found for preset_id {preset_id}")
    return preset


def create_preset(ctx: Ctx) -> WireResponse:
    """`POST /presets`: 200 (the spec's code) with the stored preset; 409 when the name is taken."""
    body = object_body(ctx.body, required=True)
    _check_unique(ctx, required_str(body, "name"))
    state = ctx.state
    now = state.now()
    preset = Preset(id=state.new_id(), body=_client_fields(body), created_at=now, updated_at=now)
    state.presets[preset.id] = preset
    return ok(preset_json(state, preset))


def list_presets(ctx: Ctx) -> WireResponse:
    """`GET /presets`: PresetListItem objects, in creation order."""
    page, paging = paginate(list(ctx.state.presets.values()), *ctx.page())
    return paged([preset_list_item(ctx.state, p) for p in page], paging)


def get_preset(ctx: Ctx) -> WireResponse:
    """`GET /presets/{preset_id}`: the full preset."""
    return ok(preset_json(ctx.state, _find(ctx)))


def update_preset(ctx: Ctx) -> WireResponse:
    """`PATCH /presets/{preset_id}`: deep-merges the body into the preset."""
    preset = _find(ctx)
    body = object_body(ctx.body)
    if "name" in body:
        _check_unique(ctx, required_str(body, "name"), except_id=preset.id)
    preset.body = deep_merge(preset.body, _client_fields(body))
    preset.updated_at = ctx.state.now()
    return ok(preset_json(ctx.state, preset))


def delete_preset(ctx: Ctx) -> WireResponse:
    """`DELETE /presets/{preset_id}`: answers with the deleted preset."""
    preset = _find(ctx)
    del ctx.state.presets[preset.id]
    return ok(preset_json(ctx.state, preset))
