"""`Outage`: when the fleet's Redis stops answering, say so once and ask it again later.

A part of the fleet that reads Redis on a caller's path (shared polls, their backlog) must
never make that caller wait on a dead Redis: on a failure it works alone for a while
(`RETRY_AFTER` seconds), and the outage is logged once (WARNING) with its end (INFO).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from dyte_async._clock import Clock

__all__ = ["RETRY_AFTER", "Outage"]

logger = logging.getLogger("dyte_async")

RETRY_AFTER: Final = 2.0


class Outage:
    """The outage state of one feature of the fleet.

    Args:
        clock: the client's clock.
        where: the Redis server, as logged (no password).
        feature: what the log lines name (e.g. "shared polls").
        alone: what the feature does during an outage, as logged.
    """

    __slots__ = ("_alone", "_clock", "_feature", "_until", "_where")

    def __init__(self, clock: Clock, where: str, feature: str, alone: str) -> None:
        self._clock = clock
        self._where = where
        self._feature = feature
        self._alone = alone
        self._until: float | None = None

    @property
    def down(self) -> bool:
        """True while Redis is not asked (it failed less than `RETRY_AFTER` seconds ago)."""
        return self._until is not None and self._clock.now() < self._until

    def failed(self, error: BaseException) -> None:
        """Redis failed: the first failure of an outage is logged (type only, no details)."""
        if self._until is None:
            logger.warning(
                "%s: Redis at %s did not answer (%s); %s until it does",
                self._feature,
                self._where,
                type(error).__name__,
                self._alone,
            )
        self._until = self._clock.now() + RETRY_AFTER

    def recovered(self) -> None:
        """Redis answered: an outage ends (logged once)."""
        if self._until is not None:
            self._until = None
            logger.info("%s: Redis at %s answers again", self._feature, self._where)
