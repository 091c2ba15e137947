"""The per-meeting source: polls one meeting's active livestream."""

from __future__ import annotations

from collections.abc import Iterable

from dyte_async._poller._reads import err_message, read_active, read_latest, same
from dyte_async._poller._settings import ERRORED
from dyte_async._poller._source import PollHost, Schedule
from dyte_async._poller._state import Meeting, Waiter
from dyte_async.errors import DyteError, NotFoundError
from dyte_async.models import Livestream

__all__ = ["SingleSource"]


class SingleSource(Schedule):
    """Polls ``GET /meetings/{id}/active-livestream`` for one meeting.

    A 404 means "nothing active": the meeting's existence is then confirmed (once), and
    when a waiter wants stopped statuses the latest livestream is read (once per stop).

    Args:
        meeting: the meeting polled.
        next_due: when the first poll is due.
    """

    __slots__ = ("inactive_known", "meeting")

    last_error: DyteError | None  # declared (and slotted) by `Schedule`

    def __init__(self, meeting: Meeting, next_due: float) -> None:
        super().__init__(next_due)
        self.meeting: Meeting = meeting
        #: the stopped livestream was read since the last active one
        self.inactive_known: bool = False

    def waiters(self) -> Iterable[Waiter]:
        """The waiters of the meeting."""
        return self.meeting.waiters

    async def poll(self, host: PollHost, deadline: float) -> bool:
        """One round within `deadline`: the active livestream; True when the observation changed."""
        meeting = self.meeting
        try:
            try:
                livestream: Livestream | None = await read_active(host.reader, meeting.id, deadline)
                self.inactive_known = False
            except NotFoundError:
                exists = await host.existence.confirm(meeting, deadline)
                if exists is not True:
                    # False: it does not exist (its waiters were told); None: it is being
                    # checked by another poll right now (the next poll knows).
                    meeting.readable()
                    return exists is False
                if meeting.n_inactive > 0 and self.inactive_known:
                    meeting.readable()
                    return False
                livestream = await self._inactive(host, deadline)
            message = await self._err_message(host, livestream, deadline)
        except DyteError as exc:
            host.failed(self, (meeting,), exc, listing=False)
            return False
        self.last_error = None
        return host.publish(meeting, livestream, message)

    async def _inactive(self, host: PollHost, deadline: float) -> Livestream | None:
        """What nothing active means to the waiters: nothing, or the stopped livestream."""
        meeting = self.meeting
        if meeting.n_inactive == 0:
            return None
        livestream = await read_latest(host.reader, meeting.id, meeting.livestream, deadline)
        self.inactive_known = True
        return livestream

    async def _err_message(
        self, host: PollHost, livestream: Livestream | None, deadline: float
    ) -> str | None:
        """The error message of a livestream newly seen ERRORED (None otherwise)."""
        meeting = self.meeting
        if livestream is None or livestream.status != ERRORED:
            return None
        if meeting.observed and same(meeting.livestream, livestream):
            return None
        return await err_message(host.reader, livestream, deadline)
