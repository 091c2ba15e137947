"""The limiter interface the request path uses, and `NoLimiter` for a client without a limit.

The pipeline only knows `Limiter`: the in-process `SlidingWindowLimiter` implements it, and
so can a limiter shared by many processes (a window kept in Redis), with no change to the
request path.
"""

from __future__ import annotations

import math
from typing import Protocol

__all__ = ["Limiter", "LimiterTimeout", "NoLimiter", "Slot"]


class LimiterTimeout(Exception):
    """The rate limiter cannot start the request before the call's deadline.

    Raised at once, without waiting: the request was not sent.

    Attributes:
        wait: the seconds the request would have had to wait for its slot.
        deadline: the deadline (a `Clock` reading) it would have missed.
    """

    def __init__(self, wait: float, *, deadline: float) -> None:
        super().__init__(
            f"the rate limit allows the next request in {wait:.3f} s, after the call's deadline"
        )
        self.wait = wait
        self.deadline = deadline


class Slot:
    """One start granted by a limiter, held by its attempt until `Limiter.release`.

    Implementations may subclass it to keep their own bookkeeping.

    Attributes:
        time: when the attempt may start (a `Clock` reading).
        waited: the seconds its caller was held back.
    """

    __slots__ = ("time", "waited")

    def __init__(self, time: float) -> None:
        self.time: float = time
        self.waited: float = 0.0

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.time!r})"


class Limiter(Protocol):
    """What the request path needs of a rate limiter, and what every limiter guarantees.

    Held slots
        Each attempt takes a slot with `acquire_slot` before it starts and gives it back
        with `release` when it ends (answer, failure or cancellation: in a ``finally``).
        The slot counts against the limit from the attempt's start until ``per`` seconds
        after its end, so a server counting arrivals over any window of ``per`` seconds
        never sees more than ``requests`` of them from all the limiter's callers.
    Deadlines
        `acquire_slot` takes the call's deadline (a reading of the client's clock). When
        the earliest start falls after it, `LimiterTimeout` is raised at once: nothing is
        held and nothing may be sent.
    Pauses
        `pause_for` (a 429's ``Retry-After``) holds back every start of every caller of
        the limiter for that long, callers already queued included.
    Cancellation
        A caller cancelled inside `acquire_slot` holds nothing afterwards: a slot handed
        to it is given back (counting as used until its start), never lost.
    """

    @property
    def waited_total(self) -> float:
        """The seconds callers have spent waiting for a slot, in total (for statistics)."""
        ...

    async def acquire_slot(self, *, deadline: float | None = None) -> Slot:
        """Wait for a start slot and hold it until `release`.

        Args:
            deadline: the latest acceptable start (a `Clock` reading), or None.

        Returns:
            The slot, its `Slot.waited` set.

        Raises:
            LimiterTimeout: the slot cannot start by `deadline`.
        """
        ...

    def release(self, slot: Slot) -> None:
        """The attempt of `slot` ended now (idempotent).

        Args:
            slot: a slot this limiter's `acquire_slot` returned.
        """
        ...

    def pause_for(self, seconds: float) -> None:
        """Allow no new start for `seconds`.

        Args:
            seconds: the length of the pause.
        """
        ...

    async def aclose(self) -> None:
        """Send what is still pending and let go of what the limiter holds (idempotent)."""
        ...


_NO_SLOT = Slot(-math.inf)


class NoLimiter:
    """A limiter that never waits (for a client built with ``rate_limit=None``).

    Pauses are ignored too: without a limiter a 429 only delays the caller that saw it.
    """

    __slots__ = ()

    @property
    def waited_total(self) -> float:
        """Always 0.0."""
        return 0.0

    async def acquire_slot(self, *, deadline: float | None = None) -> Slot:
        """Return at once.

        Args:
            deadline: ignored.

        Returns:
            A slot that never waited.
        """
        return _NO_SLOT

    def release(self, slot: Slot) -> None:
        """Ignored.

        Args:
            slot: ignored.
        """

    def pause_for(self, seconds: float) -> None:
        """Ignored.

        Args:
            seconds: ignored.
        """

    async def aclose(self) -> None:
        """Nothing to close."""

    def __repr__(self) -> str:
        return "NoLimiter()"
