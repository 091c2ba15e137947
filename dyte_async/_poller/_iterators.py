"""The waits' iterators: `watch` (each change of one meeting) and `wait_until_live_many`."""

from __future__ import annotations

import contextlib
import itertools
import math
from collections import deque
from collections.abc import Collection, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Generic, TypeVar, cast

from dyte_async._poller._core import errored_error
from dyte_async._poller._settings import ERRORED, LIVE, check_interval, deadline_after
from dyte_async._poller._state import Meeting, Waiter
from dyte_async.errors import DyteError, LivestreamErroredError, NotFoundError, WaitTimeoutError
from dyte_async.models import Livestream, LivestreamStatus

if TYPE_CHECKING:
    from dyte_async._poller._core import Poller

__all__ = ["LivestreamWaitMany", "LivestreamWatch"]

_T = TypeVar("_T")


def _shown(meeting_ids: Collection[str]) -> str:
    """Meeting ids for a message: the first ten, and how many in all."""
    ids = list(itertools.islice(meeting_ids, 10))
    more = f", ... ({len(meeting_ids)} in all)" if len(meeting_ids) > 10 else ""
    return ", ".join(ids) + more


_Self = TypeVar("_Self", bound="_Registration")


class _Registration:
    """What the waits' iterators share: a waiter registered with the poller while they run.

    `aclose()` (also on leaving `async with`, or when the object is collected) unregisters
    it, so nothing stays behind whatever way the iteration ends.
    """

    __slots__ = ("_closed", "_poller", "_waiter")

    def __init__(self, poller: Poller) -> None:
        self._poller = poller
        self._waiter: Waiter | None = None
        self._closed = False

    def _release(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None:
            self._poller.unregister_all(waiter)

    def _on_close(self) -> None:
        """What a subclass drops when it is closed (beyond the registration)."""

    async def aclose(self) -> None:
        """Stop waiting (nothing stays registered)."""
        self._closed = True
        self._on_close()
        self._release()

    async def __aenter__(self: _Self) -> _Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # at loop shutdown there is nothing to tidy
            self._release()


class LivestreamWatch(_Registration):
    """`dyte.livestreams.watch(...)`: yields the livestream each time its status changes.

    An async iterator (`async for ls in watch`), also an async context manager; `aclose()`
    ends it. It holds no task: polling happens while a `__anext__` is awaited (and, when
    other waits share the meeting, through theirs).
    """

    __slots__ = ("_interval", "_last", "_meeting_id")

    def __init__(self, poller: Poller, meeting_id: str, *, poll_interval: float) -> None:
        super().__init__(poller)
        self._meeting_id = meeting_id
        self._interval = check_interval(poll_interval)
        self._last: tuple[str, LivestreamStatus] | None = None

    def __aiter__(self) -> LivestreamWatch:
        return self

    async def __anext__(self) -> Livestream:
        if self._closed:
            raise StopAsyncIteration
        poller = self._poller
        waiter = self._waiter
        if waiter is None:
            waiter = self._waiter = Waiter(
                deadline=math.inf, interval=self._interval, full=True, inactive=True
            )
            poller.register(waiter, (self._meeting_id,))
        meeting = waiter.meetings[self._meeting_id]
        try:
            while True:
                error = waiter.error or meeting.missing
                if error is not None:
                    self._closed = True
                    raise error.with_traceback(None)
                waiter.dirty.clear()
                livestream = meeting.livestream
                if livestream is not None and (livestream.id, livestream.status) != self._last:
                    self._last = (livestream.id, livestream.status)
                    return livestream
                await poller.next(waiter)
        except BaseException:
            # Cancelled or failed: leave nothing registered; a later `__anext__` re-registers.
            self._release()
            raise


class LivestreamWaitMany(_Registration, Generic[_T]):
    """`dyte.livestreams.wait_until_live_many(...)`: yields each livestream as it goes LIVE.

    An async iterator, also an async context manager; `aclose()` ends it. Meetings seen
    ERRORED are yielded as `LivestreamErroredError` values with `yield_errors=True`, and
    meetings that do not exist as `NotFoundError` values; otherwise they are collected and
    raised once every other meeting is LIVE (one error, naming them all: a `NotFoundError`
    when a meeting does not exist, chaining the `LivestreamErroredError` of errored ones,
    if any, as its `__cause__`). At the deadline it raises `WaitTimeoutError` with
    `.pending`.
    """

    __slots__ = (
        "_deadline",
        "_errored",
        "_interval",
        "_missing",
        "_pending",
        "_ready",
        "_timeout",
        "_yield_errors",
    )

    def __init__(
        self,
        poller: Poller,
        meeting_ids: Iterable[str],
        *,
        timeout: float | None,
        poll_interval: float,
        yield_errors: bool,
    ) -> None:
        super().__init__(poller)
        self._pending: dict[str, None] = dict.fromkeys(meeting_ids)
        self._timeout = timeout
        self._deadline = deadline_after(poller.clock.now(), timeout)
        self._interval = check_interval(poll_interval)
        self._yield_errors = yield_errors
        self._ready: deque[Livestream | LivestreamErroredError | NotFoundError] = deque()
        self._errored: list[LivestreamErroredError] = []
        self._missing: list[tuple[str, NotFoundError]] = []

    @property
    def pending(self) -> tuple[str, ...]:
        """Meeting ids not LIVE yet (nor ERRORED, nor found not to exist)."""
        return tuple(self._pending)

    def __aiter__(self) -> LivestreamWaitMany[_T]:
        return self

    async def __anext__(self) -> _T:
        while True:
            if self._ready:
                return cast(_T, self._ready.popleft())
            if self._closed:
                raise StopAsyncIteration
            if not self._pending:
                self._finish()
            waiter = self._registered()
            try:
                await self._step(waiter)
            except BaseException:
                self._release()
                raise

    def _registered(self) -> Waiter:
        """The waiter, registered on the pending meetings (at the first call)."""
        waiter = self._waiter
        if waiter is None:
            waiter = self._waiter = Waiter(
                deadline=self._deadline, interval=self._interval, full=False, inactive=False
            )
            self._poller.register(waiter, self._pending)
            waiter.dirty.extend(waiter.meetings.values())
        return waiter

    async def _step(self, waiter: Waiter) -> None:
        """Collect the news; when there is none, wait for some (or expire)."""
        error = waiter.error
        if error is not None:
            self._closed = True
            raise error.with_traceback(None)
        self._collect(waiter)
        if self._ready or not self._pending:
            return
        if not await self._poller.next(waiter):
            self._expire()

    def _collect(self, waiter: Waiter) -> None:
        dirty, waiter.dirty = waiter.dirty, []
        for meeting in dict.fromkeys(dirty):
            if meeting.id not in self._pending:
                continue
            missing = meeting.missing
            if missing is not None:
                self._resolve(waiter, meeting)
                if self._yield_errors:
                    self._ready.append(missing)
                else:
                    self._missing.append((meeting.id, missing))
                continue
            livestream = meeting.livestream
            if livestream is None:
                continue
            if livestream.status == LIVE:
                self._resolve(waiter, meeting)
                self._ready.append(livestream)
            elif livestream.status == ERRORED:
                self._resolve(waiter, meeting)
                error = errored_error(meeting, livestream)
                if self._yield_errors:
                    self._ready.append(error)
                else:
                    self._errored.append(error)

    def _resolve(self, waiter: Waiter, meeting: Meeting) -> None:
        del self._pending[meeting.id]
        self._poller.unregister(waiter, meeting)
        self._poller.rebalance()

    def _errored_error(self) -> LivestreamErroredError | None:
        errored = self._errored
        if not errored:
            return None
        if len(errored) == 1:
            return errored[0]
        first = errored[0]
        names = "; ".join(str(e) for e in errored)
        return LivestreamErroredError(
            f"{len(errored)} livestreams errored: {names}",
            livestream=first.livestream,
            err_message=first.err_message,
        )

    def _errors(self) -> DyteError | None:
        """The error for the meetings that errored or do not exist (None: there are none)."""
        errored = self._errored_error()
        missing = self._missing
        if not missing:
            return errored
        if len(missing) == 1 and errored is None:
            return missing[0][1]
        first = missing[0][1]
        if len(missing) == 1:
            message, method, url = first.message, first.method, first.url
        else:
            message = f"{len(missing)} meetings do not exist: {_shown([m for m, _ in missing])}"
            method = url = ""  # several requests: none names them all
        if errored is not None:
            message += f"; also {len(self._errored)} livestream(s) errored"
        error = NotFoundError(
            message,
            status_code=first.status_code,
            code=first.code,
            request_id=first.request_id,
            body=first.body,
            headers=first.headers,
            method=method,
            url=url,
        )
        error.__cause__ = errored
        return error

    def _finish(self) -> None:
        self._closed = True
        self._release()
        error = self._errors()
        if error is not None:
            raise error
        raise StopAsyncIteration

    def _expire(self) -> None:
        self._closed = True
        waiter = self._waiter
        last_error = None
        if waiter is not None:
            for meeting in waiter.meetings.values():
                if meeting.source is not None and meeting.source.last_error is not None:
                    last_error = meeting.source.last_error
                    break
        self._release()
        pending = tuple(self._pending)
        errors = self._errors()
        also = []
        if self._errored:
            also.append(f"{len(self._errored)} errored")
        if self._missing:
            also.append(f"{len(self._missing)} not found")
        extra = f"; also {', '.join(also)}" if also else ""
        timeout = self._timeout if self._timeout is not None else math.inf
        error = WaitTimeoutError(
            f"{len(pending)} meeting(s) not LIVE after {timeout:g} s: {_shown(pending)}{extra}",
            pending=pending,
        )
        raise error from (errors if errors is not None else last_error)

    def _on_close(self) -> None:
        self._ready.clear()
