"""Does a meeting exist? A 404 of its active livestream cannot tell, ``GET /meetings/{id}`` can.

A meeting seen with nothing active is checked once (at most one check of it in flight);
a 404 ends every wait on it with a `NotFoundError` naming it; a meeting seen with a
livestream, or confirmed, is remembered as existing (the `limit` most recently seen), so
later waits skip the check.
"""

from __future__ import annotations

from typing import Protocol

from dyte_async._checks import segment
from dyte_async._pipeline import Pipeline, logger
from dyte_async._poller._settings import KNOWN_MEETINGS
from dyte_async._poller._state import Meeting
from dyte_async.errors import NotFoundError

__all__ = ["Backlog", "Existence"]


class Backlog(Protocol):
    """Where a process's count of meetings left to check meets its fleet's (`redis=`)."""

    async def total(self, mine: int) -> int:
        """Publish this process's count (`mine`) and return the fleet's, `mine` included."""
        ...


class Existence:
    """The meetings known to exist, and the existence checks in flight.

    Args:
        pipeline: where checks are sent.
        limit: meetings remembered as existing, at most (the least recently seen go first).
    """

    __slots__ = ("_checking", "_known", "limit", "pipeline")

    def __init__(self, pipeline: Pipeline, *, limit: int = KNOWN_MEETINGS) -> None:
        self.pipeline: Pipeline = pipeline
        self.limit: int = limit
        # Meetings known to exist, least recently seen first.
        self._known: dict[str, None] = {}
        # Meetings whose `GET /meetings/{id}` is in flight.
        self._checking: set[str] = set()

    def recall(self, meeting_id: str) -> bool:
        """True when the meeting is remembered as existing (it becomes the most recent)."""
        known = self._known
        if meeting_id not in known:
            return False
        del known[meeting_id]
        known[meeting_id] = None
        return True

    def known(self, meeting: Meeting) -> None:
        """Remember that the meeting exists (for this record and later waits on it)."""
        meeting.exists = True
        known = self._known
        known.pop(meeting.id, None)
        known[meeting.id] = None
        while len(known) > max(0, self.limit):
            del known[next(iter(known))]

    def unconfirmed(self, meeting: Meeting) -> bool:
        """True when the meeting's existence is unknown and no check of it is in flight."""
        if meeting.exists or meeting.missing is not None:
            return False
        if meeting.id in self._known:
            self.known(meeting)
            return False
        return meeting.id not in self._checking

    async def confirm(self, meeting: Meeting, deadline: float) -> bool | None:
        """Make sure a meeting seen with nothing active exists (``GET /meetings/{id}``, once).

        Returns:
            True when it exists (known already, or confirmed now); False when it does not
            (`missing` is set and its waiters are woken); None when a check of it is in
            flight in another poll.

        Raises:
            DyteError: the check failed (not with 404); after a transient failure the next
                poll that sees nothing active checks again.
        """
        if not self.unconfirmed(meeting):
            if meeting.missing is not None:
                return False
            return True if meeting.exists else None
        meeting_id = meeting.id
        self._checking.add(meeting_id)
        try:
            await self.pipeline.send(
                "GET", f"/meetings/{segment(meeting_id, 'meeting_id')}", deadline=deadline
            )
        except NotFoundError as exc:
            self.gone(meeting, exc)
            return False
        finally:
            self._checking.discard(meeting_id)
        self.known(meeting)
        return True

    def gone(self, meeting: Meeting, exc: NotFoundError) -> None:
        """The meeting does not exist: every wait on it ends with a `NotFoundError`."""
        logger.info("meeting %s does not exist: %s", meeting.id, exc)
        meeting.missing = NotFoundError(
            f"meeting {meeting.id} does not exist ({exc.message})",
            status_code=exc.status_code,
            code=exc.code,
            request_id=exc.request_id,
            body=exc.body,
            headers=exc.headers,
            method=exc.method,
            url=exc.url,
        )
        meeting.notify_all()
