"""`dyte.meetings`: create, read, list and change meetings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dyte_async._convert import list_items, structure
from dyte_async._pagination import AsyncPaginator
from dyte_async.models import Meeting
from dyte_async.resources._base import Resource, segment, without_none
from dyte_async.resources._fields import MeetingFields, MeetingUpdateFields
from dyte_async.resources.livestreams import TimeArg

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["Meetings"]


def _meetings(data: Any) -> list[Meeting]:
    return [structure(item, Meeting) for item in list_items(data, "meetings")]


class Meetings(Resource):
    """Meeting endpoints (`dyte.meetings`). Every method takes a per-call `timeout=`.

    Fields are the API's own (`title`, `preferred_region`, `record_on_start`,
    `live_stream_on_start`, `persist_chat`, `summarize_on_end`, `recording_config`,
    `ai_config`, and `status` for `update`), typed by `MeetingFields` and
    `MeetingUpdateFields`; a field passed as None is not sent, one passed as `NULL` is sent
    as JSON null.
    """

    async def create(
        self, *, timeout: float | None = None, **fields: Unpack[MeetingFields]
    ) -> Meeting:
        """Create a meeting (`POST /meetings`). Sent once: never retried after it may have arrived.

        Args:
            timeout: seconds for the whole call.
            **fields: `MeetingFields`, e.g. `title="Town hall", live_stream_on_start=True`.

        Returns:
            The new `Meeting`.
        """
        envelope = await self._pipeline.send(
            "POST", "/meetings", json=without_none(fields), timeout=timeout, idempotent=False
        )
        return structure(envelope.data, Meeting)

    async def get(self, meeting_id: str, *, timeout: float | None = None) -> Meeting:
        """One meeting (`GET /meetings/{meeting_id}`)."""
        path = f"/meetings/{segment(meeting_id, 'meeting_id')}"
        envelope = await self._pipeline.send("GET", path, timeout=timeout)
        return structure(envelope.data, Meeting)

    def list(
        self,
        *,
        search: str | None = None,
        start_time: TimeArg = None,
        end_time: TimeArg = None,
        per_page: int | None = None,
        timeout: float | None = None,
    ) -> AsyncPaginator[Meeting]:
        """All meetings (`GET /meetings`), lazily paged; `search` matches id or title.

        Args:
            search: matches a meeting's id or title.
            start_time, end_time: a time range. Datetimes are sent as ISO 8601 with their
                offset; a naive datetime is taken as UTC (not local time) and sent with
                ``+00:00``.
            per_page: page size.
        """
        params = {"search": search, "start_time": start_time, "end_time": end_time}
        return self._paginate(
            "/meetings", _meetings, params=params, per_page=per_page, timeout=timeout
        )

    async def update(
        self,
        meeting_id: str,
        *,
        timeout: float | None = None,
        **fields: Unpack[MeetingUpdateFields],
    ) -> Meeting:
        """Change some fields of a meeting (`PATCH /meetings/{meeting_id}`).

        Args:
            meeting_id: the meeting.
            timeout: seconds for the whole call.
            **fields: `MeetingUpdateFields` to change (`NULL` sends JSON null).

        Returns:
            The meeting as the server now has it.
        """
        return await self._write("PATCH", meeting_id, fields, timeout)

    async def replace(
        self, meeting_id: str, *, timeout: float | None = None, **fields: Unpack[MeetingFields]
    ) -> Meeting:
        """Replace a meeting's fields (`PUT /meetings/{meeting_id}`).

        Args:
            meeting_id: the meeting.
            timeout: seconds for the whole call.
            **fields: `MeetingFields`, the meeting's new settings.

        Returns:
            The meeting as the server now has it.
        """
        return await self._write("PUT", meeting_id, fields, timeout)

    async def _write(
        self, method: str, meeting_id: str, fields: Mapping[str, Any], timeout: float | None
    ) -> Meeting:
        path = f"/meetings/{segment(meeting_id, 'meeting_id')}"
        envelope = await self._pipeline.send(
            method, path, json=without_none(fields), timeout=timeout
        )
        return structure(envelope.data, Meeting)
