"""`dyte.participants`: the people of a meeting, and their join tokens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dyte_async._convert import list_items, structure
from dyte_async._pagination import AsyncPaginator
from dyte_async.errors import InvalidArgumentError, ResponseDecodeError
from dyte_async.models import Participant
from dyte_async.resources._base import Resource, segment, without_none
from dyte_async.resources._fields import ParticipantUpdateFields

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["Participants"]


def _participants(data: Any) -> list[Participant]:
    return [structure(item, Participant) for item in list_items(data, "participants")]


class Participants(Resource):
    """Participant endpoints (`dyte.participants`). Every method takes a per-call `timeout=`."""

    async def add(
        self,
        meeting_id: str,
        *,
        preset_name: str,
        custom_participant_id: str,
        name: str | None = None,
        picture: str | None = None,
        timeout: float | None = None,
    ) -> Participant:
        """Add a participant (`POST /meetings/{meeting_id}/participants`).

        Sent once: never retried after it may have reached the server.

        Returns:
            The `Participant`, with `.token` for the front end to join with.

        Raises:
            InvalidArgumentError: an empty `preset_name` or `custom_participant_id`.
        """
        required: tuple[tuple[str, object], ...] = (
            ("preset_name", preset_name),
            ("custom_participant_id", custom_participant_id),
        )
        for label, value in required:
            if not isinstance(value, str) or not value:
                raise InvalidArgumentError(f"{label} is required and must be a non-empty string")
        path = f"/meetings/{segment(meeting_id, 'meeting_id')}/participants"
        body = without_none(
            {
                "preset_name": preset_name,
                "custom_participant_id": custom_participant_id,
                "name": name,
                "picture": picture,
            }
        )
        envelope = await self._pipeline.send(
            "POST", path, json=body, timeout=timeout, idempotent=False
        )
        return structure(envelope.data, Participant)

    async def refresh_token(
        self, meeting_id: str, participant_id: str, *, timeout: float | None = None
    ) -> str:
        """A new join token (`POST /meetings/{id}/participants/{participant_id}/token`)."""
        path = f"{self._path(meeting_id, participant_id)}/token"
        envelope = await self._pipeline.send("POST", path, timeout=timeout)
        data = envelope.data
        if isinstance(data, Mapping) and isinstance(data.get("token"), str):
            return str(data["token"])
        raise ResponseDecodeError("refresh_token: the answer has no token")

    async def get(
        self, meeting_id: str, participant_id: str, *, timeout: float | None = None
    ) -> Participant:
        """One participant (`GET /meetings/{meeting_id}/participants/{participant_id}`)."""
        envelope = await self._pipeline.send(
            "GET", self._path(meeting_id, participant_id), timeout=timeout
        )
        return structure(envelope.data, Participant)

    def list(
        self, meeting_id: str, *, per_page: int | None = None, timeout: float | None = None
    ) -> AsyncPaginator[Participant]:
        """A meeting's participants (`GET /meetings/{meeting_id}/participants`), lazily paged."""
        path = f"/meetings/{segment(meeting_id, 'meeting_id')}/participants"
        return self._paginate(path, _participants, per_page=per_page, timeout=timeout)

    async def update(
        self,
        meeting_id: str,
        participant_id: str,
        *,
        timeout: float | None = None,
        **fields: Unpack[ParticipantUpdateFields],
    ) -> Participant:
        """Change a participant's name, picture or preset_name (`PATCH .../{participant_id}`).

        Args:
            meeting_id: the meeting.
            participant_id: the participant.
            timeout: seconds for the whole call.
            **fields: `ParticipantUpdateFields`; None is not sent, `NULL` is sent as JSON
                null (`picture=NULL` removes the picture).

        Returns:
            The participant as the server now has it.
        """
        envelope = await self._pipeline.send(
            "PATCH",
            self._path(meeting_id, participant_id),
            json=without_none(fields),
            timeout=timeout,
        )
        return structure(envelope.data, Participant)

    async def delete(
        self, meeting_id: str, participant_id: str, *, timeout: float | None = None
    ) -> None:
        """Remove a participant (`DELETE .../participants/{participant_id}`)."""
        await self._pipeline.send("DELETE", self._path(meeting_id, participant_id), timeout=timeout)

    @staticmethod
    def _path(meeting_id: str, participant_id: str) -> str:
        return (
            f"/meetings/{segment(meeting_id, 'meeting_id')}"
            f"/participants/{segment(participant_id, 'participant_id')}"
        )
