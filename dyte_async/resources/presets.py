"""`dyte.presets`: what participants see and may do, and the livestream host/viewer pair.

The endpoints are here; request bodies in `_preset_bodies`, get-or-create in `_preset_ensure`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dyte_async._convert import structure
from dyte_async._pagination import AsyncPaginator
from dyte_async._pipeline import Pipeline
from dyte_async.errors import InvalidArgumentError
from dyte_async.models import Preset, PresetSummary
from dyte_async.resources._base import Resource
from dyte_async.resources._fields import PresetFields
from dyte_async.resources._preset_bodies import (
    check_name,
    livestream_host_body,
    livestream_viewer_body,
    merge,
    request_body,
)
from dyte_async.resources._preset_ensure import GetOrCreate, preset_path, summaries

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["Presets", "livestream_host_body", "livestream_viewer_body"]


class Presets(Resource):
    """Preset endpoints (`dyte.presets`). Every method takes a per-call `timeout=`.

    Bodies use the API's own keys (`name`, `config`, `permissions`, `ui`); values may be
    plain dicts or the typed objects of `dyte_async.models`, and a `Preset` may be
    passed whole (its `to_body()` is sent). A field passed as None is not sent.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        super().__init__(pipeline)
        self._get_or_create = GetOrCreate(pipeline)

    async def create(
        self,
        body: Preset | Mapping[str, Any] | None = None,
        /,
        *,
        timeout: float | None = None,
        **fields: Unpack[PresetFields],
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
        data = request_body(body, fields)
        name = check_name(data.get("name"))
        deadline = self._pipeline.deadline(timeout)
        return await self._get_or_create.create(name, data, deadline)

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
        envelope = await self._pipeline.send("GET", preset_path(preset_id), timeout=timeout)
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
        return self._paginate("/presets", summaries, per_page=per_page, timeout=timeout)

    async def update(
        self,
        preset_id: str,
        body: Preset | Mapping[str, Any] | None = None,
        /,
        *,
        timeout: float | None = None,
        **fields: Unpack[PresetFields],
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
        path = preset_path(preset_id)
        data = request_body(body, fields)
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
        await self._pipeline.send("DELETE", preset_path(preset_id), timeout=timeout)

    async def get_or_create(
        self,
        name: str,
        body: Preset | Mapping[str, Any] | None = None,
        /,
        *,
        timeout: float | None = None,
        **fields: Unpack[PresetFields],
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
        check_name(name)
        data = merge(request_body(body, fields), {"name": name})
        return await self._get_or_create.ensure(name, data, self._pipeline.deadline(timeout))

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
        check_name(host, "host")
        check_name(viewer, "viewer")
        if host == viewer:
            raise InvalidArgumentError("host and viewer presets need different names")
        deadline = self._pipeline.deadline(timeout)
        host_preset = await self._get_or_create.ensure(host, livestream_host_body(host), deadline)
        viewer_preset = await self._get_or_create.ensure(
            viewer, livestream_viewer_body(viewer), deadline
        )
        return host_preset, viewer_preset
