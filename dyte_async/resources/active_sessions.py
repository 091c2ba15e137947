"""`dyte.active_sessions`: the running session of a meeting, and moderating it."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from dyte_async._convert import structure
from dyte_async._writes import Settle
from dyte_async.errors import InvalidArgumentError, ResponseDecodeError
from dyte_async.models import ActiveSession, ModerationResult, SessionParticipant
from dyte_async.resources._base import Resource, int_or_none, segment

__all__ = ["ActiveSessions"]

logger: logging.Logger = logging.getLogger("dyte_async.decode")

# A retry that finds the participants (or the session) gone: the lost attempt acted.
_GONE = Settle(statuses=frozenset({404}), meaning="the participants were already gone")


def _participants(items: Any) -> tuple[SessionParticipant, ...]:
    """The participants a kick or mute names; any the answer spells wrongly are left out
    (with a DEBUG line): the write took effect, and only this report of it is damaged."""
    if items is None:
        return ()
    if not isinstance(items, list):
        logger.debug("ModerationResult.participants: not a JSON array; left empty")
        return ()
    participants = []
    for item in items:
        try:
            participants.append(structure(item, SessionParticipant))
        except ResponseDecodeError as exc:
            logger.debug("ModerationResult.participants: one left out (%s)", exc)
    return tuple(participants)


def _moderation(data: Any, count_key: str | None = None) -> ModerationResult:
    """A `ModerationResult` from `{action, participants[]}` or `{action, <count_key>}`.

    Every part is informational: a kick or mute the server answered with success succeeds
    whatever the shape of the report (`data` not an object gives an empty result).
    """
    if not isinstance(data, Mapping):
        if data is not None:
            logger.debug("ModerationResult: data is not a JSON object; left empty")
        return ModerationResult()
    action = data.get("action")
    items = data.get("participants")
    participants = _participants(items)
    count = int_or_none(data.get(count_key)) if count_key else None
    if count is None and isinstance(items, list):
        count = len(items)
    return ModerationResult(
        action=action if isinstance(action, str) else None,
        participants=participants,
        count=count,
    )


def _ids(value: Iterable[str], label: str) -> list[str]:
    if isinstance(value, (str, bytes)):
        raise InvalidArgumentError(f"{label} must be a list of ids, not one string")
    try:
        ids: list[object] = list(value)
    except TypeError:
        raise InvalidArgumentError(f"{label} must be a list of ids") from None
    for item in ids:
        if not isinstance(item, str) or not item.strip():
            raise InvalidArgumentError(f"{label} must hold non-empty id strings, got {item!r}")
    return [str(item) for item in dict.fromkeys(ids)]


def _targets(
    participant_ids: Iterable[str], custom_participant_ids: Iterable[str]
) -> dict[str, Any]:
    ids = _ids(participant_ids, "participant_ids")
    custom_ids = _ids(custom_participant_ids, "custom_participant_ids")
    if not ids and not custom_ids:
        raise InvalidArgumentError(
            "name the participants: pass participant_ids or custom_participant_ids"
        )
    body: dict[str, Any] = {}
    if ids:
        body["participant_ids"] = ids
    if custom_ids:
        body["custom_participant_ids"] = custom_ids
    return body


class ActiveSessions(Resource):
    """Active session endpoints (`dyte.active_sessions`). Every method takes a per-call `timeout=`.

    Kicks and mutes are retried like reads (their effect does not add up). A kick, mute
    or kick-all retried after an attempt that may have taken effect (read timeout, dropped
    connection, 5xx) that then answers 404 (participants, or the session, already gone)
    succeeds with an empty `ModerationResult` (logged at INFO); a 404 to the first attempt
    is still `NotFoundError`.
    """

    async def get(self, meeting_id: str, *, timeout: float | None = None) -> ActiveSession:
        """The meeting's running session (`GET /meetings/{meeting_id}/active-session`).

        Args:
            meeting_id: the meeting.
            timeout: seconds for the whole call.

        Returns:
            The `ActiveSession` (`live_participants`, `minutes_consumed`, ...).

        Raises:
            NotFoundError: the meeting has no session running.
        """
        envelope = await self._pipeline.send("GET", self._path(meeting_id), timeout=timeout)
        return structure(envelope.data, ActiveSession)

    async def kick(
        self,
        meeting_id: str,
        *,
        participant_ids: Iterable[str] = (),
        custom_participant_ids: Iterable[str] = (),
        timeout: float | None = None,
    ) -> ModerationResult:
        """Remove participants from the session (`POST .../active-session/kick`).

        Args:
            meeting_id: the meeting.
            participant_ids: participant ids (as `participants.add` returned).
            custom_participant_ids: your own ids, as given to `participants.add`.
            timeout: seconds for the whole call.

        Returns:
            A `ModerationResult` naming the participants removed.

        Raises:
            InvalidArgumentError: neither list names anyone, or an id is not a non-empty
                string (nothing sent).
            NotFoundError: no such participant in the session, or no session running.
        """
        body = _targets(participant_ids, custom_participant_ids)
        return await self._act(meeting_id, "kick", body, timeout, settle=_GONE)

    async def kick_all(self, meeting_id: str, *, timeout: float | None = None) -> ModerationResult:
        """Remove everyone from the session (`POST .../active-session/kick-all`).

        Args:
            meeting_id: the meeting.
            timeout: seconds for the whole call.

        Returns:
            A `ModerationResult`; `count` is the server's `kicked_participants_count`.

        Raises:
            NotFoundError: no session running.
        """
        return await self._act(
            meeting_id,
            "kick-all",
            None,
            timeout,
            count_key="kicked_participants_count",
            settle=_GONE,
        )

    async def mute(
        self,
        meeting_id: str,
        *,
        participant_ids: Iterable[str] = (),
        custom_participant_ids: Iterable[str] = (),
        timeout: float | None = None,
    ) -> ModerationResult:
        """Mute participants of the session (`POST .../active-session/mute`).

        Args:
            meeting_id: the meeting.
            participant_ids: participant ids.
            custom_participant_ids: your own ids, as given to `participants.add`.
            timeout: seconds for the whole call.

        Returns:
            A `ModerationResult` naming the participants muted.

        Raises:
            InvalidArgumentError: neither list names anyone, or an id is not a non-empty
                string (nothing sent).
            NotFoundError: no such participant in the session, or no session running.
        """
        body = _targets(participant_ids, custom_participant_ids)
        return await self._act(meeting_id, "mute", body, timeout, settle=_GONE)

    async def mute_all(
        self,
        meeting_id: str,
        *,
        allow_unmute: bool | None = None,
        timeout: float | None = None,
    ) -> ModerationResult:
        """Mute everyone in the session (`POST .../active-session/mute-all`).

        Args:
            meeting_id: the meeting.
            allow_unmute: False: participants cannot unmute themselves afterwards; True:
                they can; None: not sent (the server's default).
            timeout: seconds for the whole call.

        Returns:
            A `ModerationResult`; `count` is the server's `muted_participants_count`.

        Raises:
            InvalidArgumentError: `allow_unmute` is not a bool or None (nothing sent).
            NotFoundError: no session running.
        """
        if allow_unmute is not None and not isinstance(allow_unmute, bool):
            raise InvalidArgumentError(f"allow_unmute must be a bool, got {allow_unmute!r}")
        body = {} if allow_unmute is None else {"allow_unmute": allow_unmute}
        return await self._act(
            meeting_id, "mute-all", body, timeout, count_key="muted_participants_count"
        )

    async def _act(
        self,
        meeting_id: str,
        action: str,
        body: dict[str, Any] | None,
        timeout: float | None,
        *,
        count_key: str | None = None,
        settle: Settle | None = None,
    ) -> ModerationResult:
        envelope = await self._pipeline.send(
            "POST",
            f"{self._path(meeting_id)}/{action}",
            json=body,
            timeout=timeout,
            settle=settle,
        )
        return _moderation(envelope.data, count_key)

    @staticmethod
    def _path(meeting_id: str) -> str:
        return f"/meetings/{segment(meeting_id, 'meeting_id')}/active-session"
