"""`Reader`: what a poll sends its reads through, and how fresh a shared read must be.

By default the reads go straight to the client's `Pipeline`. With a fleet (`redis=`), they
go through `dyte_async._fleet.SharedReads`, which answers a read from an observation another
process of the fleet made recently enough (`FRESH_FOR`), and otherwise sends it.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol

from dyte_async._poller._settings import DEFAULT_POLL_INTERVAL

if TYPE_CHECKING:
    from dyte_async._clock import Clock
    from dyte_async._response import Envelope

__all__ = ["FRESH_FOR", "Reader"]

#: Seconds an observation read by another process may be old and still answer a poll: the
#: smallest `poll_interval` of the waits the poll serves (set by the driver around a round).
FRESH_FOR: ContextVar[float] = ContextVar("dyte_async_fresh_for", default=DEFAULT_POLL_INTERVAL)


class Reader(Protocol):
    """The part of `Pipeline` a poll's reads use."""

    @property
    def clock(self) -> Clock:
        """The client's clock."""
        ...

    @property
    def timeout(self) -> float:
        """The client's default call timeout, in seconds."""
        ...

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        deadline: float | None = None,
    ) -> Envelope:
        """Send one read (with its retries) and decode its envelope."""
        ...
